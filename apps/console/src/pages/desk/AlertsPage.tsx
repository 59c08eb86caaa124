import { Button, Form, Input, Modal, Radio, Segmented, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { get, itemsOf, post, qs } from '../../api/client';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { ago, chinaTime } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { ALERT_KINDS, ALERT_STATES, label, SEVERITIES, SEVERITY_COLORS } from '../../lib/labels';
import { useApi } from '../../lib/useApi';
import type { AlertRow } from '../supervisor/DashboardPage';

export const alertState = (a: AlertRow): string => a.status ?? a.state ?? 'RAISED';
/** Raised and nobody has answered yet: the ones to acknowledge. */
export const isOpenAlert = (a: AlertRow): boolean => ['OPEN', 'RAISED', 'ESCALATED'].includes(alertState(a));
export const isClosedAlert = (a: AlertRow): boolean => ['RESOLVED', 'FALSE_ALARM'].includes(alertState(a));

export function AlertsPage() {
  const { t, lang } = useI18n();
  const act = useAction();
  const [state, setState] = useState<'RAISED' | 'ACKNOWLEDGED' | 'OPEN' | 'ALL'>('OPEN');
  const [resolving, setResolving] = useState<AlertRow | null>(null);
  const alerts = useApi(() => get<unknown>(`/alerts${qs({ status: state === 'ALL' ? undefined : state, pageSize: 100 })}`).then(itemsOf<AlertRow>), state, 5_000);

  const acknowledge = (a: AlertRow) =>
    act({
      confirm: { title: t('确认已响应此告警？', 'Acknowledge this alert?'), content: t('确认后将停止向上一级升级通知，请确保已有人员处理。', 'Escalation to the next level stops; make sure someone is on it.') },
      run: () => post(`/alerts/${a.alertId}/acknowledge`, { note: 'Acknowledged at the operator desk' }),
      done: t('已确认响应', 'Acknowledged'),
    }).then((ok) => ok && alerts.reload());

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3}>{t('告警处置', 'Alert queue')}</Typography.Title>
        <Segmented
          value={state}
          onChange={(v) => setState(v as typeof state)}
          options={[
            { value: 'OPEN', label: t('未关闭', 'Not closed') },
            { value: 'RAISED', label: t('待响应', 'Unanswered') },
            { value: 'ACKNOWLEDGED', label: t('已响应', 'Acknowledged') },
            { value: 'ALL', label: t('全部', 'All') },
          ]}
        />
      </Space>
      <AsyncView {...alerts} isEmpty={(a) => !a.length} emptyText={t('没有需要处理的告警', 'No alerts to handle')}>
        {(rows) => (
          <Table<AlertRow>
            rowKey="alertId"
            data-testid="alert-queue"
            dataSource={rows}
            pagination={{ pageSize: 20 }}
            columns={[
              { title: t('级别', 'Severity'), dataIndex: 'severity', render: (s: string) => <Tag color={SEVERITY_COLORS[s]}>{label(SEVERITIES, s, lang)}</Tag> },
              { title: t('类型', 'Kind'), dataIndex: 'kind', render: (k: string) => label(ALERT_KINDS, k, lang) },
              { title: t('对象', 'Who / where'), render: (_, a) => a.elderName ?? a.elderId ?? a.facilityId ?? '—' },
              { title: t('原因', 'Reason'), dataIndex: 'reason', ellipsis: true },
              { title: t('发生时间', 'Raised'), dataIndex: 'raisedAt', render: (v: string) => `${chinaTime(v)}（${ago(v, lang)}）` },
              { title: t('状态', 'State'), render: (_, a) => <Tag>{label(ALERT_STATES, alertState(a), lang)}</Tag> },
              {
                title: t('操作', 'Actions'),
                render: (_, a) => (
                  <Space>
                    {isOpenAlert(a) && (
                      <Button type="primary" size="small" onClick={() => acknowledge(a)} data-testid="alert-ack">
                        {t('确认响应', 'Acknowledge')}
                      </Button>
                    )}
                    {!isClosedAlert(a) && (
                      <Button size="small" onClick={() => setResolving(a)} data-testid="alert-resolve">
                        {t('解除', 'Resolve')}
                      </Button>
                    )}
                  </Space>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
      <ResolveDialog alert={resolving} onClose={(changed) => (setResolving(null), changed && alerts.reload())} />
    </div>
  );
}

function ResolveDialog({ alert, onClose }: { alert: AlertRow | null; onClose: (changed: boolean) => void }) {
  const { t } = useI18n();
  const act = useAction();
  const [form] = Form.useForm<{ outcome: 'RESOLVED' | 'FALSE_ALARM'; reason: string }>();
  return (
    <Modal
      open={!!alert}
      title={t('解除告警', 'Resolve the alert')}
      okText={t('确定解除', 'Resolve')}
      cancelText={t('取消', 'Cancel')}
      onCancel={() => onClose(false)}
      onOk={async () => {
        const v = await form.validateFields();
        const ok = await act({ run: () => post(`/alerts/${alert?.alertId}/resolve`, v), done: t('告警已解除', 'Alert resolved') });
        if (ok) {
          form.resetFields();
          onClose(true);
        }
      }}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" initialValues={{ outcome: 'RESOLVED' }}>
        <Form.Item name="outcome" label={t('处理结果', 'Outcome')}>
          <Radio.Group>
            <Radio value="RESOLVED">{t('已妥善处理', 'Handled')}</Radio>
            <Radio value="FALSE_ALARM">{t('误报', 'False alarm')}</Radio>
          </Radio.Group>
        </Form.Item>
        <Form.Item name="reason" label={t('处理说明', 'Note')} rules={[{ required: true, message: t('请填写处理说明', 'Please describe what was done') }]}>
          <Input.TextArea rows={3} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
