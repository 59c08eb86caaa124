import { DownloadOutlined, PlayCircleOutlined } from '@ant-design/icons';
import { Button, DatePicker, Progress, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { download, get, itemsOf, post, qs } from '../../api/client';
import { useAuth } from '../../auth/AuthContext';
import { AsyncView } from '../../components/AsyncView';
import { useAction } from '../../lib/actions';
import { chinaMonth, yuan } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { label, SETTLEMENT_STATES } from '../../lib/labels';
import { useApi } from '../../lib/useApi';

interface Statement {
  statementId: string;
  providerId: string;
  providerName?: string;
  month: string;
  status?: string;
  state?: string;
  totals: { lineCount: number; grossFen: number; subsidyFen: number; copayFen: number; payableFen: number };
}

export function SettlementsPage() {
  const { t, lang } = useI18n();
  const { user } = useAuth();
  const act = useAction();
  const [month, setMonth] = useState(chinaMonth());
  const [running, setRunning] = useState(false);
  const list = useApi(() => get<unknown>(`/settlements${qs({ month, pageSize: 100 })}`).then(itemsOf<Statement>), month, running ? 2_000 : 30_000);
  const isAdmin = user?.role === 'civil_affairs_admin';

  const run = async () => {
    setRunning(true);
    await act({
      confirm: {
        title: t(`生成 ${month} 月度结算单？`, `Produce the statements for ${month}?`),
        content: t('将按已核验的服务记录为每家服务机构生成结算单（草稿可重新生成，审批后不可更改）。', 'One statement per provider from verified visits; drafts can be produced again, approved ones cannot change.'),
      },
      run: () => post('/settlements/run', { month }),
      done: t('结算单已生成', 'Statements produced'),
    });
    setRunning(false);
    list.reload();
  };

  const approve = (s: Statement) =>
    act({
      confirm: {
        title: t('审批通过此结算单？', 'Approve this statement?'),
        content: t(`应付 ${yuan(s.totals.payableFen)}。审批后将进入支付流程，不能撤销。`, `Payable ${yuan(s.totals.payableFen)}. Approval starts payment and cannot be undone.`),
      },
      run: () => post(`/settlements/${s.statementId}/approve`, {}),
      done: t('已审批', 'Approved'),
    }).then((ok) => ok && list.reload());

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Typography.Title level={3}>{t('月度结算', 'Monthly settlements')}</Typography.Title>
        <Space>
          <DatePicker picker="month" allowClear={false} value={dayjs(`${month}-01`)} onChange={(d) => d && setMonth(d.format('YYYY-MM'))} />
          {isAdmin && (
            <Button icon={<PlayCircleOutlined />} onClick={run} loading={running}>
              {t('生成结算单', 'Produce statements')}
            </Button>
          )}
        </Space>
      </Space>
      {running && <Progress percent={99} status="active" showInfo={false} style={{ marginBottom: 8 }} />}
      <AsyncView {...list} isEmpty={(s) => !s.length} emptyText={t('本月尚无结算单', 'No statements for this month yet')}>
        {(rows) => (
          <Table<Statement>
            rowKey="statementId"
            dataSource={rows}
            columns={[
              { title: t('服务机构', 'Provider'), render: (_, s) => s.providerName ?? s.providerId },
              { title: t('月份', 'Month'), dataIndex: 'month' },
              { title: t('服务笔数', 'Lines'), render: (_, s) => s.totals.lineCount },
              { title: t('服务总额', 'Gross'), render: (_, s) => yuan(s.totals.grossFen) },
              { title: t('政府补贴', 'Subsidy'), render: (_, s) => yuan(s.totals.subsidyFen) },
              { title: t('个人自付', 'Co-pay'), render: (_, s) => yuan(s.totals.copayFen) },
              { title: t('应付', 'Payable'), render: (_, s) => <Typography.Text strong>{yuan(s.totals.payableFen)}</Typography.Text> },
              { title: t('状态', 'State'), render: (_, s) => <Tag>{label(SETTLEMENT_STATES, s.status ?? s.state, lang)}</Tag> },
              {
                title: t('操作', 'Actions'),
                render: (_, s) => (
                  <Space>
                    {isAdmin && ['ISSUED', 'DRAFT'].includes(s.status ?? s.state ?? '') && (
                      <Button size="small" type="primary" onClick={() => approve(s)}>
                        {t('审批', 'Approve')}
                      </Button>
                    )}
                    <Button size="small" icon={<DownloadOutlined />} onClick={() => download(`/settlements/${s.statementId}/export?format=xlsx`, `settlement-${s.month}-${s.providerId}.xlsx`).catch(() => undefined)}>
                      {t('导出', 'Export')}
                    </Button>
                  </Space>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
    </div>
  );
}
