import { App as AntApp, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider, useAuth } from './auth/AuthContext';
import { homeOf, PAGES } from './auth/roles';
import { AppLayout } from './components/AppLayout';
import { RequireRole } from './components/RequireRole';
import { I18nProvider, useI18n } from './lib/i18n';
import { CaregiverPage } from './pages/caregiver/CaregiverPage';
import { AlertsPage } from './pages/desk/AlertsPage';
import { BudgetsPage } from './pages/desk/BudgetsPage';
import { EldersPage } from './pages/desk/EldersPage';
import { ImportPage } from './pages/desk/ImportPage';
import { OrdersPage } from './pages/desk/OrdersPage';
import { PoliciesPage } from './pages/desk/PoliciesPage';
import { SettlementsPage } from './pages/desk/SettlementsPage';
import { VisitsPage } from './pages/desk/VisitsPage';
import { FamilyPage } from './pages/family/FamilyPage';
import { LoginPage } from './pages/Login';
import { DashboardPage } from './pages/supervisor/DashboardPage';

function Home() {
  const { user } = useAuth();
  return <Navigate to={user ? homeOf(user.role) : '/login'} replace />;
}

function Themed() {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={lang === 'en' ? enUS : zhCN} theme={{ token: { colorPrimary: '#1677ff', borderRadius: 6 } }}>
      <AntApp>
        <BrowserRouter>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route element={<AppLayout />}>
              <Route path={PAGES.dashboard.path} element={<RequireRole page="dashboard"><DashboardPage /></RequireRole>} />
              <Route path={PAGES.elders.path} element={<RequireRole page="elders"><EldersPage /></RequireRole>} />
              <Route path={PAGES.import.path} element={<RequireRole page="import"><ImportPage /></RequireRole>} />
              <Route path={PAGES.orders.path} element={<RequireRole page="orders"><OrdersPage /></RequireRole>} />
              <Route path={PAGES.alerts.path} element={<RequireRole page="alerts"><AlertsPage /></RequireRole>} />
              <Route path={PAGES.visits.path} element={<RequireRole page="visits"><VisitsPage /></RequireRole>} />
              <Route path={PAGES.policies.path} element={<RequireRole page="policies"><PoliciesPage /></RequireRole>} />
              <Route path={PAGES.settlements.path} element={<RequireRole page="settlements"><SettlementsPage /></RequireRole>} />
              <Route path={PAGES.budgets.path} element={<RequireRole page="budgets"><BudgetsPage /></RequireRole>} />
            </Route>
            <Route path={PAGES.family.path} element={<RequireRole page="family"><FamilyPage /></RequireRole>} />
            <Route path={PAGES.caregiver.path} element={<RequireRole page="caregiver"><CaregiverPage /></RequireRole>} />
            <Route path="*" element={<Home />} />
          </Routes>
        </BrowserRouter>
      </AntApp>
    </ConfigProvider>
  );
}

export function App() {
  return (
    <I18nProvider>
      <AuthProvider>
        <Themed />
      </AuthProvider>
    </I18nProvider>
  );
}
