import { Progress, Table, Typography } from 'antd';
import { get, itemsOf } from '../../api/client';
import { AsyncView } from '../../components/AsyncView';
import { yuan } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { useApi } from '../../lib/useApi';

interface Budget {
  _id: string;
  fundSource: string;
  year: number;
  regionCode: string;
  name?: string;
  allocatedFen: number;
  spentFen: number;
  heldFen?: number;
  availableFen?: number;
  utilisationPercent?: number | null;
}

const FUNDS: Record<string, { zh: string; en: string }> = {
  CENTRAL_PILOT: { zh: '中央试点资金', en: 'Central pilot fund' },
  PROVINCIAL: { zh: '省级资金', en: 'Provincial' },
  MUNICIPAL: { zh: '市级资金', en: 'Municipal' },
  COUNTY: { zh: '区县资金', en: 'County' },
};

export const usedShare = (b: Pick<Budget, 'allocatedFen' | 'spentFen'>): number => (b.allocatedFen > 0 ? b.spentFen / b.allocatedFen : 0);

export function BudgetsPage() {
  const { t, lang } = useI18n();
  const budgets = useApi(() => get<unknown>('/budgets').then(itemsOf<Budget>), 'budgets', 30_000);
  return (
    <div>
      <Typography.Title level={3}>{t('资金预算', 'Budgets')}</Typography.Title>
      <AsyncView {...budgets} isEmpty={(b) => !b.length} emptyText={t('尚未下达资金预算', 'No budgets allocated yet')}>
        {(rows) => (
          <Table<Budget>
            rowKey="_id"
            dataSource={rows}
            columns={[
              { title: t('年度', 'Year'), dataIndex: 'year' },
              { title: t('资金来源', 'Fund'), render: (_, b) => b.name ?? (FUNDS[b.fundSource] ? (lang === 'en' ? FUNDS[b.fundSource].en : FUNDS[b.fundSource].zh) : b.fundSource) },
              { title: t('区划', 'Region'), dataIndex: 'regionCode' },
              { title: t('下达', 'Allocated'), render: (_, b) => yuan(b.allocatedFen) },
              { title: t('已支出', 'Spent'), render: (_, b) => yuan(b.spentFen) },
              { title: t('冻结待付', 'Held'), render: (_, b) => yuan(b.heldFen ?? 0) },
              { title: t('可用余额', 'Available'), render: (_, b) => yuan(b.availableFen ?? b.allocatedFen - b.spentFen) },
              {
                title: t('执行进度', 'Used'),
                width: 220,
                render: (_, b) => {
                  const pct = b.utilisationPercent ?? Math.round(usedShare(b) * 1000) / 10;
                  return <Progress percent={pct} status={pct >= 100 ? 'exception' : pct >= 80 ? 'active' : 'normal'} strokeColor={pct >= 80 ? '#fa8c16' : undefined} />;
                },
              },
            ]}
          />
        )}
      </AsyncView>
    </div>
  );
}
