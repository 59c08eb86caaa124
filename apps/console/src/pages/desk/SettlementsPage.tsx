import { DownloadOutlined, PlayCircleOutlined } from '@ant-design/icons';
import { Button, DatePicker, Input, Modal, Progress, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { download, get, itemsOf, post, qs } from '../../api/client';
import { useAuth } from '../../auth/AuthContext';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { chinaMonth, chinaTime, yuan } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { label, SETTLEMENT_STATES } from '../../lib/labels';
import { useApi } from '../../lib/useApi';

/** billing's monthly statement of one provider (one per provider and month). */
interface Statement {
  _id: string;
  providerId: string;
  month: string;
  status: 'DRAFT' | 'APPROVED' | 'PAID';
  totals: { lineCount: number; grossFen: number; subsidyFen: number; copayFen: number; adjustmentSubsidyFen?: number; adjustmentCopayFen?: number; payableFen: number };
  operatingLines?: { facilityName: string; amountFen: number }[];
  issuedAt?: string;
  approvedAt?: string | null;
  paidAt?: string | null;
  paymentReference?: string | null;
}

const STATUS_COLORS: Record<string, string> = { DRAFT: 'gold', APPROVED: 'blue', PAID: 'green' };

export function SettlementsPage() {
  const { t, lang } = useI18n();
  const { user } = useAuth();
  const act = useAction();
  const [month, setMonth] = useState(chinaMonth());
  const [running, setRunning] = useState(false);
  const [paying, setPaying] = useState<Statement | null>(null);
  const [reference, setReference] = useState('');
  const list = useApi(() => get<unknown>(`/settlements${qs({ month })}`).then(itemsOf<Statement>), month, 30_000);
  const names = useApi(() => get<unknown>('/providers?pageSize=200').then((r) => new Map(itemsOf<{ providerId: string; name: string }>(r).map((p) => [p.providerId, p.name]))), 'providers');
  const isAdmin = user?.role === 'civil_affairs_admin';
  const path = (s: Statement) => `/settlements/${encodeURIComponent(s.providerId)}/${s.month}`;

  const produce = async () => {
    setRunning(true);
    await act({
      confirm: {
        title: t(`生成 ${month} 月度结算单？`, `Produce the statements for ${month}?`),
        content: t(
          '将按已核验（或人工核验通过）的服务记录为每家服务机构生成结算单草稿；草稿可重新生成，审批后不再改变。',
          'One draft statement per provider from verified (or approved) visits; drafts can be produced again, approved ones never change.',
        ),
      },
      run: () => post('/settlements', { month }),
      done: t('结算单草稿已生成', 'Draft statements produced'),
    });
    setRunning(false);
    list.reload();
  };

  const approve = (s: Statement) =>
    act({
      confirm: {
        title: t('审批通过此结算单？', 'Approve this statement?'),
        content: t(`应付 ${yuan(s.totals.payableFen)}。审批后进入支付流程，结算单不能再修改。`, `Payable ${yuan(s.totals.payableFen)}. Approval starts payment; the statement can no longer change.`),
      },
      run: () => post(`${path(s)}/approval`, {}),
      done: t('已审批', 'Approved'),
    }).then((ok) => ok && list.reload());

  const exportLines = (s: Statement, format: 'xlsx' | 'csv') =>
    act({ run: () => download(`${path(s)}/lines?format=${format}`, `settlement-${s.month}-${s.providerId}.${format}`), done: t('已开始下载', 'Download started') });

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Typography.Title level={3}>{t('月度结算', 'Monthly settlements')}</Typography.Title>
        <Space>
          <DatePicker picker="month" allowClear={false} value={dayjs(`${month}-01`)} onChange={(d) => d && setMonth(d.format('YYYY-MM'))} />
          {isAdmin && (
            <Button icon={<PlayCircleOutlined />} onClick={produce} loading={running}>
              {t('生成结算单', 'Produce statements')}
            </Button>
          )}
        </Space>
      </Space>
      {running && (
        <div style={{ marginBottom: 8 }}>
          <Progress percent={100} status="active" showInfo={false} />
          <Typography.Text type="secondary">{t('正在汇总本月已核验的服务记录，请稍候…', 'Adding up the month’s verified visits…')}</Typography.Text>
        </div>
      )}
      <AsyncView {...list} isEmpty={(s) => !s.length} emptyText={t('本月尚无结算单', 'No statements for this month yet')}>
        {(rows) => (
          <Table<Statement>
            rowKey="_id"
            dataSource={rows}
            summary={(page) => (
              <Table.Summary.Row>
                <Table.Summary.Cell index={0} colSpan={3}>
                  {t('合计', 'Total')}
                </Table.Summary.Cell>
                <Table.Summary.Cell index={3}>{yuan(page.reduce((s, r) => s + r.totals.grossFen, 0))}</Table.Summary.Cell>
                <Table.Summary.Cell index={4}>{yuan(page.reduce((s, r) => s + r.totals.subsidyFen, 0))}</Table.Summary.Cell>
                <Table.Summary.Cell index={5}>{yuan(page.reduce((s, r) => s + r.totals.copayFen, 0))}</Table.Summary.Cell>
                <Table.Summary.Cell index={6}>{yuan(page.reduce((s, r) => s + r.totals.payableFen, 0))}</Table.Summary.Cell>
                <Table.Summary.Cell index={7} colSpan={2} />
              </Table.Summary.Row>
            )}
            columns={[
              { title: t('服务机构', 'Provider'), render: (_, s) => names.data?.get(s.providerId) ?? s.providerId },
              { title: t('月份', 'Month'), dataIndex: 'month' },
              { title: t('服务笔数', 'Lines'), render: (_, s) => s.totals.lineCount },
              { title: t('服务总额', 'Gross'), render: (_, s) => yuan(s.totals.grossFen) },
              { title: t('政府补贴', 'Subsidy'), render: (_, s) => yuan(s.totals.subsidyFen) },
              { title: t('个人自付', 'Co-pay'), render: (_, s) => yuan(s.totals.copayFen) },
              { title: t('应付机构', 'Payable'), render: (_, s) => <Typography.Text strong>{yuan(s.totals.payableFen)}</Typography.Text> },
              {
                title: t('状态', 'Status'),
                render: (_, s) => (
                  <Space direction="vertical" size={0}>
                    <Tag color={STATUS_COLORS[s.status]}>{label(SETTLEMENT_STATES, s.status, lang)}</Tag>
                    {s.paidAt && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{`${chinaTime(s.paidAt)} ${s.paymentReference ?? ''}`}</Typography.Text>}
                  </Space>
                ),
              },
              {
                title: t('操作', 'Actions'),
                render: (_, s) => (
                  <Space wrap>
                    {isAdmin && s.status === 'DRAFT' && (
                      <Button size="small" type="primary" onClick={() => approve(s)}>
                        {t('审批', 'Approve')}
                      </Button>
                    )}
                    {isAdmin && s.status === 'APPROVED' && (
                      <Button size="small" onClick={() => setPaying(s)}>
                        {t('登记支付', 'Record payment')}
                      </Button>
                    )}
                    <Button size="small" icon={<DownloadOutlined />} onClick={() => exportLines(s, 'xlsx')}>
                      {t('导出明细', 'Export lines')}
                    </Button>
                    <Button size="small" type="link" onClick={() => exportLines(s, 'csv')}>
                      CSV
                    </Button>
                  </Space>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
      <Modal
        open={!!paying}
        title={t('登记支付', 'Record the payment')}
        okText={t('确认已支付', 'Paid')}
        cancelText={t('取消', 'Cancel')}
        okButtonProps={{ disabled: reference.trim().length < 3 }}
        onCancel={() => setPaying(null)}
        onOk={async () => {
          const s = paying;
          if (!s) return;
          const ok = await act({ run: () => post(`${path(s)}/payment`, { paymentReference: reference.trim() }), done: t('已登记支付', 'Payment recorded') });
          if (ok) {
            setPaying(null);
            setReference('');
            list.reload();
          }
        }}
        destroyOnHidden
      >
        <Typography.Paragraph>{t('请输入国库集中支付或银行转账的凭证号。登记后不能撤销。', 'Enter the treasury or bank transfer reference. This cannot be undone.')}</Typography.Paragraph>
        <Input value={reference} onChange={(e) => setReference(e.target.value)} placeholder={t('支付凭证号', 'Payment reference')} maxLength={80} />
      </Modal>
    </div>
  );
}
