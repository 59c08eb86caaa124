import {
  AccountBookOutlined,
  AlertOutlined,
  AuditOutlined,
  DashboardOutlined,
  FileDoneOutlined,
  FundOutlined,
  ProfileOutlined,
  SafetyCertificateOutlined,
  TeamOutlined,
  UploadOutlined,
  LogoutOutlined,
} from '@ant-design/icons';
import { Button, Layout, Menu, Segmented, Space, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { canOpen, PAGES, ROLE_LABELS, type PageKey } from '../auth/roles';
import { useI18n, type Lang } from '../lib/i18n';

const MENU: { key: PageKey; icon: ReactNode; zh: string; en: string }[] = [
  { key: 'dashboard', icon: <DashboardOutlined />, zh: '监管一屏', en: 'Supervision' },
  { key: 'elders', icon: <TeamOutlined />, zh: '老人档案', en: 'Elders' },
  { key: 'import', icon: <UploadOutlined />, zh: '花名册导入', en: 'Roster import' },
  { key: 'orders', icon: <ProfileOutlined />, zh: '服务工单', en: 'Orders' },
  { key: 'alerts', icon: <AlertOutlined />, zh: '告警处置', en: 'Alerts' },
  { key: 'visits', icon: <SafetyCertificateOutlined />, zh: '服务核验', en: 'Visit checks' },
  { key: 'policies', icon: <AuditOutlined />, zh: '补贴政策', en: 'Subsidy policies' },
  { key: 'settlements', icon: <AccountBookOutlined />, zh: '月度结算', en: 'Settlements' },
  { key: 'budgets', icon: <FundOutlined />, zh: '资金预算', en: 'Budgets' },
  { key: 'family', icon: <FileDoneOutlined />, zh: '家属服务', en: 'Family' },
  { key: 'caregiver', icon: <FileDoneOutlined />, zh: '我的工作', en: 'My work' },
];

export function LangSwitch() {
  const { lang, setLang } = useI18n();
  return (
    <Segmented<Lang>
      size="small"
      value={lang}
      onChange={setLang}
      options={[
        { label: '中文', value: 'zh-CN' },
        { label: 'English', value: 'en' },
      ]}
      data-testid="lang-switch"
    />
  );
}

export function UserBox({ compact }: { compact?: boolean }) {
  const { user, signOut } = useAuth();
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  if (!user) return null;
  return (
    <Space>
      {!compact && (
        <Typography.Text style={{ color: 'inherit' }} data-testid="current-user">
          {user.displayName} · {lang === 'en' ? ROLE_LABELS[user.role].en : ROLE_LABELS[user.role].zh}
        </Typography.Text>
      )}
      <Button
        size="small"
        icon={<LogoutOutlined />}
        onClick={async () => {
          await signOut();
          navigate('/login');
        }}
      >
        {t('退出', 'Sign out')}
      </Button>
    </Space>
  );
}

/** Desk and supervision pages: a menu of exactly the pages the role may open. */
export function AppLayout() {
  const { user } = useAuth();
  const { t } = useI18n();
  const location = useLocation();
  const navigate = useNavigate();
  const items = MENU.filter((m) => canOpen(user?.role, m.key)).map((m) => ({ key: PAGES[m.key].path, icon: m.icon, label: t(m.zh, m.en) }));
  const selected = items.map((i) => i.key).filter((k) => location.pathname.startsWith(k));
  // Wall display (`?wall=1`): the screen is all dashboard — no menu, no header.
  if (new URLSearchParams(location.search).get('wall') === '1') {
    return (
      <Layout style={{ minHeight: '100vh', padding: 16 }}>
        <Outlet />
      </Layout>
    );
  }
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} width={200} theme="dark">
        <div style={{ color: '#fff', fontSize: 20, fontWeight: 600, padding: '16px 20px' }}>{t('颐养平台', 'Yiyang')}</div>
        <Menu theme="dark" mode="inline" selectedKeys={selected} items={items} onClick={({ key }) => navigate(key)} />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 16, paddingInline: 24 }}>
          <LangSwitch />
          <UserBox />
        </Layout.Header>
        <Layout.Content style={{ padding: 20 }}>
          <Outlet />
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
