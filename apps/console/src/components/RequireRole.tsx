import { Button, Result } from 'antd';
import type { ReactNode } from 'react';
import { Link, Navigate, useLocation } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { canOpen, homeOf, type PageKey } from '../auth/roles';
import { useI18n } from '../lib/i18n';

/** Route guard: signed out → the sign-in page (and back afterwards); wrong role → a plain 403 page. */
export function RequireRole({ page, children }: { page: PageKey; children: ReactNode }) {
  const { user } = useAuth();
  const location = useLocation();
  if (!user) return <Navigate to={`/login?from=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (!canOpen(user.role, page)) return <Forbidden home={homeOf(user.role)} />;
  return <>{children}</>;
}

export function Forbidden({ home }: { home: string }) {
  const { t } = useI18n();
  return (
    <Result
      status="403"
      title={t('无权访问此页面', 'You cannot open this page')}
      subTitle={t(
        '您的账号角色没有权限查看此页面。如确需使用，请联系本区民政部门管理员为您开通。',
        'Your role is not allowed to see this page. Ask your civil-affairs administrator if you need it.',
      )}
      extra={
        <Link to={home}>
          <Button type="primary">{t('返回我的首页', 'Back to my home page')}</Button>
        </Link>
      }
      data-testid="forbidden"
    />
  );
}
