import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { plainMessage } from '../api/errors';
import { useAuth } from '../auth/AuthContext';
import { safeRedirect } from '../auth/roles';
import { LangSwitch } from '../components/AppLayout';
import { useI18n } from '../lib/i18n';

export function LoginPage() {
  const { user, signIn } = useAuth();
  const { t, lang } = useI18n();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (user) return <Navigate to={safeRedirect(user.role, params.get('from'))} replace />;

  const onFinish = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      const s = await signIn(v.username.trim(), v.password);
      navigate(safeRedirect(s.user.role, params.get('from')), { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: 'linear-gradient(135deg,#e6f4ff,#f6ffed)' }}>
      <Card style={{ width: 440, maxWidth: '92vw' }}>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('颐养 · 养老服务平台', 'Yiyang elder care')}
          </Typography.Title>
          <LangSwitch />
        </div>
        <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
          {t('请使用您的账号登录', 'Sign in with your account')}
        </Typography.Paragraph>
        {!!error && <Alert type="error" showIcon title={plainMessage(error, lang)} style={{ marginBottom: 16 }} data-testid="login-error" />}
        <Form layout="vertical" onFinish={onFinish} requiredMark={false}>
          <Form.Item name="username" label={t('用户名', 'User name')} rules={[{ required: true, message: t('请输入用户名', 'Enter your user name') }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" size="large" id="username" />
          </Form.Item>
          <Form.Item name="password" label={t('密码', 'Password')} rules={[{ required: true, message: t('请输入密码', 'Enter your password') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" size="large" id="password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block size="large" loading={busy} data-testid="login-submit">
            {t('登录', 'Sign in')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
