import { Button, Form, Input, Modal, Segmented, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { get, itemsOf, post, qs } from '../../api/client';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { chinaTime, minutesBetween } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { label, VISIT_FLAGS, VISIT_STATES } from '../../lib/labels';
import { useApi } from '../../lib/useApi';
import { useItemName } from '../../lib/catalogue';

interface Punch {
  at: string;
  location?: { lat: number; lng: number };
  distanceMeters?: number;
}
export interface Visit {
  visitId: string;
  orderId: string;
  elderId: string;
  elderName?: string;
  caregiverId: string;
  caregiverName?: string;
  itemCode: string;
  itemName?: string;
  state: string;
  flags: string[] | { code: string; detail?: string }[];
  details?: string[];
  startedAt?: string;
  endedAt?: string | null;
  checkIn?: Punch | null;
  checkOut?: Punch | null;
  bookedMinutes?: number;
  actualMinutes?: number | null;
}

export const flagCodes = (v: Visit): string[] => (v.flags ?? []).map((f) => (typeof f === 'string' ? f : f.code));

export function VisitsPage() {
  const { t, lang } = useI18n();
  const act = useAction();
  const itemName = useItemName();
  const [state, setState] = useState<'FLAGGED' | 'ALL'>('FLAGGED');
  const [rejecting, setRejecting] = useState<Visit | null>(null);
  const [form] = Form.useForm<{ reason: string }>();
  const visits = useApi(() => get<unknown>(`/visits${qs({ state: state === 'ALL' ? undefined : state, pageSize: 100 })}`).then(itemsOf<Visit>), state, 15_000);

  const approve = (v: Visit) =>
    act({
      confirm: { title: t('确认通过此次服务？', 'Approve this visit?'), content: t('通过后该次服务将计入结算，由补贴资金支付。', 'Once approved the visit is billed to the subsidy fund.') },
      run: () => post(`/visits/${v.visitId}/approve`, { reason: t('人工核验无误，同意结算', 'Checked by staff; approved for billing') }),
      done: t('已通过', 'Approved'),
    }).then((ok) => ok && visits.reload());

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3}>{t('服务核验（异常待审）', 'Visit verification')}</Typography.Title>
        <Segmented
          value={state}
          onChange={(v) => setState(v as typeof state)}
          options={[
            { value: 'FLAGGED', label: t('待人工核验', 'Flagged') },
            { value: 'ALL', label: t('全部', 'All') },
          ]}
        />
      </Space>
      <AsyncView {...visits} isEmpty={(v) => !v.length} emptyText={t('没有需要人工核验的服务记录', 'No visits waiting for review')}>
        {(rows) => (
          <Table<Visit>
            rowKey="visitId"
            dataSource={rows}
            data-testid="visits-table"
            columns={[
              { title: t('服务', 'Service'), render: (_, v) => v.itemName ?? itemName(v.itemCode) },
              { title: t('老人', 'Elder'), render: (_, v) => v.elderName ?? v.elderId },
              { title: t('护理员', 'Caregiver'), render: (_, v) => v.caregiverName ?? v.caregiverId },
              { title: t('签到', 'Check-in'), render: (_, v) => chinaTime(v.checkIn?.at ?? v.startedAt) },
              {
                title: t('时长（实际/预约）', 'Minutes (actual/booked)'),
                render: (_, v) => `${v.actualMinutes ?? minutesBetween(v.checkIn?.at, v.checkOut?.at) ?? '—'} / ${v.bookedMinutes ?? '—'}`,
              },
              {
                title: t('异常', 'Flags'),
                render: (_, v) => (
                  <>
                    {flagCodes(v).map((f) => (
                      <Tag color="orange" key={f}>
                        {label(VISIT_FLAGS, f, lang)}
                      </Tag>
                    ))}
                    {!!v.details?.length && (
                      <Typography.Paragraph type="secondary" style={{ margin: 0, fontSize: 12 }}>
                        {v.details.join('；')}
                      </Typography.Paragraph>
                    )}
                  </>
                ),
              },
              { title: t('状态', 'State'), dataIndex: 'state', render: (s: string) => label(VISIT_STATES, s, lang) },
              {
                title: t('操作', 'Actions'),
                render: (_, v) =>
                  v.state === 'FLAGGED' && (
                    <Space>
                      <Button size="small" type="primary" onClick={() => approve(v)}>
                        {t('通过', 'Approve')}
                      </Button>
                      <Button size="small" danger onClick={() => setRejecting(v)}>
                        {t('驳回', 'Reject')}
                      </Button>
                    </Space>
                  ),
              },
            ]}
          />
        )}
      </AsyncView>
      <Modal
        open={!!rejecting}
        title={t('驳回此次服务', 'Reject the visit')}
        okText={t('确定驳回', 'Reject')}
        okButtonProps={{ danger: true }}
        cancelText={t('取消', 'Cancel')}
        onCancel={() => setRejecting(null)}
        onOk={async () => {
          const { reason } = await form.validateFields();
          const ok = await act({ run: () => post(`/visits/${rejecting?.visitId}/reject`, { reason }), done: t('已驳回，不予结算', 'Rejected; it will not be billed') });
          if (ok) {
            form.resetFields();
            setRejecting(null);
            visits.reload();
          }
        }}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{t('驳回后此次服务不计入结算，此操作不能撤销。', 'A rejected visit is never billed; this cannot be undone.')}</Typography.Paragraph>
        <Form form={form} layout="vertical">
          <Form.Item name="reason" label={t('驳回原因', 'Reason')} rules={[{ required: true, message: t('请填写驳回原因', 'Please give a reason') }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
