import { Button, Card, Col, Empty, Input, Modal, Row, Segmented, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { get, itemsOf, post, qs } from '../../api/client';
import { useAuth } from '../../auth/AuthContext';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { ago, chinaTime } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { ESCALATION_REASONS, label, ORDER_STATE_COLORS, ORDER_STATES } from '../../lib/labels';
import { useApi } from '../../lib/useApi';
import { useItemName } from '../../lib/catalogue';

export interface Order {
  orderId: string;
  elderId: string;
  elderName?: string;
  itemCode: string;
  itemName?: string;
  state: string;
  priority?: string;
  providerId?: string | null;
  caregiverId?: string | null;
  caregiverName?: string | null;
  placedAt: string;
  window?: { asap: boolean; from: string; to: string };
  escalation?: { reason?: string; at?: string } | null;
  offer?: { offerId: string; caregiverId: string; expiresAt: string } | null;
  rating?: { stars: number } | null;
}

/** The board's lanes: what a dispatcher needs to act on is on the left. */
export const LANES: { key: string; zh: string; en: string; states: string[] }[] = [
  { key: 'attention', zh: '待处理', en: 'Needs action', states: ['ESCALATED', 'PLACED'] },
  { key: 'assigned', zh: '已派单', en: 'Assigned', states: ['ASSIGNED', 'ACCEPTED', 'EN_ROUTE'] },
  { key: 'serving', zh: '服务中', en: 'In service', states: ['CHECKED_IN'] },
  { key: 'checking', zh: '待核验', en: 'Being verified', states: ['CHECKED_OUT', 'FLAGGED'] },
  { key: 'done', zh: '已完成', en: 'Done', states: ['VERIFIED', 'COMPLETED', 'RATED'] },
];

export const laneOf = (state: string): string => LANES.find((l) => l.states.includes(state))?.key ?? 'other';

export function OrdersPage() {
  const { t, lang } = useI18n();
  const act = useAction();
  const itemName = useItemName();
  const [view, setView] = useState<'board' | 'table'>('board');
  const [assigning, setAssigning] = useState<Order | null>(null);
  const { user } = useAuth();
  const canAssign = user?.role === 'provider_operator' || user?.role === 'civil_affairs_admin';
  const orders = useApi(() => get<unknown>(`/orders${qs({ pageSize: 200 })}`).then(itemsOf<Order>), 'orders', 10_000);

  const cancel = (o: Order) =>
    act({
      confirm: { title: t('确定取消这张工单？', 'Cancel this order?'), content: t('取消后护理员将不再上门，此操作不能撤销。', 'The caregiver will not come; this cannot be undone.'), danger: true },
      run: () => post(`/orders/${o.orderId}/cancel`, { reason: 'Cancelled at the operator desk' }),
      done: t('工单已取消', 'Order cancelled'),
    }).then((ok) => ok && orders.reload());

  const card = (o: Order) => (
    <Card key={o.orderId} size="small" style={{ marginBottom: 8 }} data-testid="order-card">
      <Space direction="vertical" size={2} style={{ width: '100%' }}>
        <Space style={{ justifyContent: 'space-between', width: '100%' }}>
          <Typography.Text strong>{o.itemName ?? itemName(o.itemCode)}</Typography.Text>
          <Tag color={ORDER_STATE_COLORS[o.state]}>{label(ORDER_STATES, o.state, lang)}</Tag>
        </Space>
        <Typography.Text type="secondary">
          {o.elderName ?? o.elderId} · {ago(o.placedAt, lang)}
        </Typography.Text>
        {o.priority === 'URGENT' && <Tag color="red">{t('加急', 'Urgent')}</Tag>}
        {o.escalation?.reason && <Tag color="red">{label(ESCALATION_REASONS, o.escalation.reason, lang)}</Tag>}
        {o.caregiverName && <Typography.Text>{t('护理员：', 'Caregiver: ')}{o.caregiverName}</Typography.Text>}
        {['PLACED', 'ESCALATED', 'ASSIGNED'].includes(o.state) && (
          <Space size={4}>
            {canAssign && ['PLACED', 'ESCALATED'].includes(o.state) && (
              <Button size="small" type="primary" onClick={() => setAssigning(o)}>
                {t('手动派单', 'Assign')}
              </Button>
            )}
            <Button size="small" danger onClick={() => cancel(o)}>
              {t('取消工单', 'Cancel')}
            </Button>
          </Space>
        )}
      </Space>
    </Card>
  );

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3}>{t('服务工单', 'Orders')}</Typography.Title>
        <Segmented
          value={view}
          onChange={(v) => setView(v as 'board' | 'table')}
          options={[
            { value: 'board', label: t('看板', 'Board') },
            { value: 'table', label: t('列表', 'Table') },
          ]}
        />
      </Space>
      <AssignDialog order={assigning} onClose={(changed) => (setAssigning(null), changed && orders.reload())} />
      <AsyncView {...orders} isEmpty={(o) => !o.length} emptyText={t('暂无服务工单', 'No orders yet')}>
        {(rows) =>
          view === 'board' ? (
            <Row gutter={12} data-testid="orders-board">
              {LANES.map((lane) => {
                const mine = rows.filter((o) => laneOf(o.state) === lane.key);
                return (
                  <Col key={lane.key} flex="1 1 220px">
                    <Card size="small" title={`${t(lane.zh, lane.en)}（${mine.length}）`} styles={{ body: { maxHeight: '70vh', overflow: 'auto', background: '#fafafa' } }}>
                      {mine.length ? mine.slice(0, 50).map(card) : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('无', 'None')} />}
                    </Card>
                  </Col>
                );
              })}
            </Row>
          ) : (
            <Table<Order>
              rowKey="orderId"
              size="small"
              dataSource={rows}
              columns={[
                { title: t('服务项目', 'Service'), render: (_, o) => o.itemName ?? itemName(o.itemCode) },
                { title: t('老人', 'Elder'), render: (_, o) => o.elderName ?? o.elderId },
                { title: t('状态', 'State'), dataIndex: 'state', render: (s: string) => <Tag color={ORDER_STATE_COLORS[s]}>{label(ORDER_STATES, s, lang)}</Tag> },
                { title: t('下单时间', 'Placed'), dataIndex: 'placedAt', render: chinaTime },
                { title: t('护理员', 'Caregiver'), render: (_, o) => o.caregiverName ?? o.caregiverId ?? '—' },
              ]}
            />
          )
        }
      </AsyncView>
    </div>
  );
}

interface CaregiverRow {
  caregiverId: string;
  name: string;
  providerId: string | null;
  kindLabel?: { zh: string; en: string };
  active?: boolean;
}

/** Escalated orders: the operator picks a caregiver by hand (dispatch re-checks skills, contract and scope). */
function AssignDialog({ order, onClose }: { order: Order | null; onClose: (changed: boolean) => void }) {
  const { t } = useI18n();
  const act = useAction();
  const [caregiverId, setCaregiverId] = useState<string>();
  const [reason, setReason] = useState('');
  const caregivers = useApi(order ? () => get<unknown>('/caregivers?pageSize=200').then(itemsOf<CaregiverRow>) : null, order?.orderId ?? 'none');
  return (
    <Modal
      open={!!order}
      title={t('手动派单', 'Assign by hand')}
      okText={t('派单', 'Assign')}
      cancelText={t('取消', 'Cancel')}
      okButtonProps={{ disabled: !caregiverId }}
      onCancel={() => onClose(false)}
      onOk={async () => {
        const ok = await act({
          run: () => post(`/orders/${order?.orderId}/assign`, { caregiverId, reason: reason.trim() || 'Assigned by hand at the desk' }),
          done: t('已派单，等待护理员接单', 'Assigned; waiting for the caregiver'),
        });
        if (ok) {
          setCaregiverId(undefined);
          setReason('');
          onClose(true);
        }
      }}
      destroyOnHidden
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Select
          showSearch
          optionFilterProp="label"
          placeholder={t('选择护理员', 'Choose a caregiver')}
          loading={caregivers.loading}
          value={caregiverId}
          onChange={setCaregiverId}
          style={{ width: '100%' }}
          options={(caregivers.data ?? []).filter((c) => c.active !== false).map((c) => ({ value: c.caregiverId, label: c.name }))}
          notFoundContent={caregivers.error ? t('无法读取护理员名单', 'Cannot load caregivers') : undefined}
        />
        <Input.TextArea rows={2} placeholder={t('派单说明（可不填）', 'Note (optional)')} value={reason} onChange={(e) => setReason(e.target.value)} />
      </Space>
    </Modal>
  );
}
