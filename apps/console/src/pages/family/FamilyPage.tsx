import { Alert, App, Button, Card, Col, ConfigProvider, Empty, Input, Layout, List, Modal, Rate, Row, Select, Space, Steps, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { get, itemsOf, post, qs } from '../../api/client';
import { plainMessage } from '../../api/errors';
import { useAuth } from '../../auth/AuthContext';
import { LangSwitch, UserBox } from '../../components/AppLayout';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { ago, chinaTime } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { ALERT_KINDS, label, ORDER_STATE_COLORS, ORDER_STATES } from '../../lib/labels';
import { useApi } from '../../lib/useApi';
import { useItemName } from '../../lib/catalogue';
import { canRate, sortForFamily, stepsView, VISIT_STEPS } from '../../lib/visitSteps';
import { alertState, isOpenAlert } from '../desk/AlertsPage';
import type { Order } from '../desk/OrdersPage';
import type { AlertRow } from '../supervisor/DashboardPage';

interface CatalogueItem {
  code: string;
  nameZh: string;
  nameEn: string;
  category: string;
  categoryLabel: { zh: string; en: string };
  unit: string;
  unitLabel: { zh: string; en: string };
  defaultDurationMinutes: number;
  active: boolean;
}
interface ElderBrief {
  id: string;
  name: string;
  homeAddress?: string;
}
type FamilyOrder = Order & { rating?: { stars: number } | null; history?: { to: string; at: string }[] };

/** Large type for elders and families: the whole page is set at 18 px with big controls. */
export function FamilyPage() {
  const { user } = useAuth();
  const { t } = useI18n();
  const elderIds = user?.elderIds ?? [];
  const [elderId, setElderId] = useState<string | undefined>(elderIds[0]);
  const elders = useApi(() => Promise.all(elderIds.map((id) => get<ElderBrief>(`/elders/${id}`).catch(() => ({ id, name: id })))), elderIds.join(','));
  return (
    <ConfigProvider theme={{ token: { fontSize: 18, controlHeight: 44 } }}>
      <Layout style={{ minHeight: '100vh', background: '#f5f7fa' }}>
        <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'space-between', alignItems: 'center', paddingInline: 16, height: 64 }}>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('颐养 · 家人服务', 'Yiyang for families')}
          </Typography.Title>
          <Space>
            <LangSwitch />
            <UserBox compact />
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 16, maxWidth: 1100, width: '100%', margin: '0 auto' }} data-testid="family-page">
          {!elderIds.length ? (
            <Empty description={t('您的账号尚未关联老人，请联系社区工作人员。', 'No elder is linked to your account yet; ask your community worker.')} />
          ) : (
            <>
              {elderIds.length > 1 && (
                <Select
                  value={elderId}
                  onChange={setElderId}
                  style={{ minWidth: 240, marginBottom: 16 }}
                  options={(elders.data ?? []).map((e) => ({ value: e.id, label: e.name }))}
                />
              )}
              {elderId && <ForElder elderId={elderId} elderName={elders.data?.find((e) => e.id === elderId)?.name} />}
            </>
          )}
        </Layout.Content>
      </Layout>
    </ConfigProvider>
  );
}

function ForElder({ elderId, elderName }: { elderId: string; elderName?: string }) {
  const { t } = useI18n();
  const orders = useApi(() => get<unknown>(`/orders${qs({ elderId, pageSize: 50 })}`).then(itemsOf<FamilyOrder>), elderId, 5_000);
  const alerts = useApi(() => get<unknown>(`/alerts${qs({ elderId, pageSize: 20 })}`).then(itemsOf<AlertRow>), elderId, 5_000);
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} lg={14}>
        <Typography.Title level={3}>{t(`为${elderName ?? '家人'}预约服务`, `Order a service for ${elderName ?? 'your parent'}`)}</Typography.Title>
        <Menu elderId={elderId} elderName={elderName} onOrdered={orders.reload} />
        <Typography.Title level={3} style={{ marginTop: 24 }}>
          {t('服务进度', 'Visits')}
        </Typography.Title>
        <AsyncView {...orders} isEmpty={(o) => !o.length} emptyText={t('还没有预约过服务', 'No services ordered yet')}>
          {(rows) => (
            <List
              data-testid="family-orders"
              dataSource={sortForFamily(rows).slice(0, 20)}
              renderItem={(o) => <OrderProgress order={o} onChanged={orders.reload} />}
            />
          )}
        </AsyncView>
      </Col>
      <Col xs={24} lg={10}>
        <Typography.Title level={3}>{t('安全提醒', 'Safety alerts')}</Typography.Title>
        <FamilyAlerts alerts={alerts} />
      </Col>
    </Row>
  );
}

function Menu({ elderId, elderName, onOrdered }: { elderId: string; elderName?: string; onOrdered: () => void }) {
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const [picked, setPicked] = useState<CatalogueItem | null>(null);
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const items = useApi(() => get<unknown>('/catalogue/items?active=true&pageSize=100').then(itemsOf<CatalogueItem>), 'catalogue');
  const byCategory = useMemo(() => {
    const groups = new Map<string, CatalogueItem[]>();
    for (const i of items.data ?? []) if (i.active !== false) groups.set(i.category, [...(groups.get(i.category) ?? []), i]);
    return [...groups.values()];
  }, [items.data]);

  const order = async () => {
    if (!picked) return;
    setBusy(true);
    setError(null);
    try {
      await post('/orders', {
        elderId,
        itemCode: picked.code,
        quantity: picked.unit === 'PER_HOUR' ? Math.max(1, Math.round(picked.defaultDurationMinutes / 60)) : 1,
        window: { asap: true },
        notes: notes.trim(),
      });
      message.success(t('预约成功，正在为您安排护理员', 'Ordered — finding a caregiver now'));
      setPicked(null);
      setNotes('');
      onOrdered();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AsyncView {...items} isEmpty={(i) => !i.length} emptyText={t('服务目录暂未开放', 'The menu is not available yet')}>
      {() => (
        <>
          <Space wrap size={[12, 12]} data-testid="catalogue-menu">
            {byCategory.flat().map((i) => (
              <Button key={i.code} size="large" style={{ height: 64, minWidth: 150, fontSize: 18 }} onClick={() => setPicked(i)} data-item={i.code}>
                {lang === 'en' ? i.nameEn : i.nameZh}
              </Button>
            ))}
          </Space>
          <Modal
            open={!!picked}
            title={t('确认预约', 'Confirm the order')}
            okText={t('确认预约', 'Order')}
            cancelText={t('取消', 'Cancel')}
            confirmLoading={busy}
            onOk={order}
            onCancel={() => (setPicked(null), setError(null))}
            okButtonProps={{ size: 'large', id: 'order-confirm' }}
          >
            {picked && (
              <Space direction="vertical" style={{ width: '100%', fontSize: 18 }}>
                <Typography.Text style={{ fontSize: 20 }}>
                  {t('服务：', 'Service: ')}
                  <b>{lang === 'en' ? picked.nameEn : picked.nameZh}</b>
                </Typography.Text>
                <Typography.Text>
                  {t('为：', 'For: ')}
                  {elderName ?? elderId}
                </Typography.Text>
                <Typography.Text>
                  {t(`时间：尽快上门（约 ${picked.defaultDurationMinutes} 分钟）`, `When: as soon as possible (about ${picked.defaultDurationMinutes} min)`)}
                </Typography.Text>
                <Input.TextArea rows={2} placeholder={t('需要告诉护理员的事（可不填）', 'Anything the caregiver should know (optional)')} value={notes} onChange={(e) => setNotes(e.target.value)} maxLength={200} />
                {!!error && <Alert type="error" showIcon title={plainMessage(error, lang)} />}
              </Space>
            )}
          </Modal>
        </>
      )}
    </AsyncView>
  );
}

function OrderProgress({ order, onChanged }: { order: FamilyOrder; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const act = useAction();
  const itemName = useItemName();
  const [stars, setStars] = useState(5);
  const view = stepsView(order.state);
  const rated = !!order.rating || order.state === 'RATED';
  return (
    <Card style={{ marginBottom: 12, width: '100%' }} data-testid="family-order" data-state={order.state}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Typography.Text strong style={{ fontSize: 20 }}>
          {order.itemName ?? itemName(order.itemCode)}
        </Typography.Text>
        <Tag color={ORDER_STATE_COLORS[order.state]} style={{ fontSize: 16, padding: '4px 10px' }} data-testid="order-state">
          {label(ORDER_STATES, order.state, lang)}
        </Tag>
      </Space>
      <Typography.Paragraph type="secondary" style={{ margin: '4px 0 12px' }}>
        {t('下单时间：', 'Ordered: ')}
        {chinaTime(order.placedAt)}
        {order.caregiverName ? ` · ${t('护理员：', 'Caregiver: ')}${order.caregiverName}` : ''}
      </Typography.Paragraph>
      {order.state !== 'CANCELLED' && (
        <Steps
          current={view.current}
          status={view.status}
          items={VISIT_STEPS.map((s) => ({ title: t(s.zh, s.en) }))}
          responsive
        />
      )}
      {order.state === 'FLAGGED' && <Alert style={{ marginTop: 12 }} type="warning" showIcon title={t('服务记录正在人工核对，核对后会通知您。', 'The visit record is being checked by staff.')} />}
      {canRate(order.state, rated) && (
        <Space style={{ marginTop: 12 }} wrap>
          <Typography.Text>{t('为这次服务打分：', 'Rate this visit: ')}</Typography.Text>
          <Rate value={stars} onChange={setStars} style={{ fontSize: 32 }} />
          <Button
            type="primary"
            onClick={() =>
              act({ run: () => post(`/orders/${order.orderId}/rating`, { stars, comment: '' }), done: t('感谢您的评价', 'Thank you for rating') }).then((ok) => ok && onChanged())
            }
          >
            {t('提交评价', 'Submit')}
          </Button>
        </Space>
      )}
      {rated && order.rating && (
        <div style={{ marginTop: 8 }}>
          <Rate disabled value={order.rating.stars} />
        </div>
      )}
    </Card>
  );
}

function FamilyAlerts({ alerts }: { alerts: { data?: AlertRow[]; error: unknown; loading: boolean; reload: () => void } }) {
  const { t, lang } = useI18n();
  const act = useAction();
  return (
    <AsyncView {...alerts} isEmpty={(a) => !a.length} emptyText={t('一切正常，没有安全提醒', 'All is well — no alerts')}>
      {(rows) => (
        <List
          data-testid="family-alerts"
          dataSource={rows}
          renderItem={(a) => (
            <Card style={{ marginBottom: 12, borderColor: isOpenAlert(a) ? '#ff4d4f' : undefined }}>
              <Space direction="vertical" style={{ width: '100%' }}>
                <Typography.Text strong style={{ fontSize: 20, color: isOpenAlert(a) ? '#cf1322' : undefined }}>
                  {label(ALERT_KINDS, a.kind, lang)}
                </Typography.Text>
                <Typography.Text type="secondary">
                  {chinaTime(a.raisedAt)}（{ago(a.raisedAt, lang)}）
                </Typography.Text>
                {isOpenAlert(a) ? (
                  <Button
                    type="primary"
                    danger
                    size="large"
                    onClick={() =>
                      act({
                        confirm: { title: t('确认您已知晓并在处理？', 'Confirm you know and are handling it?'), content: t('确认后工作人员会看到您已响应。', 'Staff will see that you responded.') },
                        run: () => post(`/alerts/${a.alertId}/acknowledge`, { note: 'Acknowledged by the family' }),
                        done: t('已确认', 'Acknowledged'),
                      }).then((ok) => ok && alerts.reload())
                    }
                  >
                    {t('我已知晓', 'I am on it')}
                  </Button>
                ) : (
                  <Tag>{alertState(a) === 'ACKNOWLEDGED' ? t('已有人响应', 'Someone responded') : t('已处理', 'Closed')}</Tag>
                )}
              </Space>
            </Card>
          )}
        />
      )}
    </AsyncView>
  );
}
