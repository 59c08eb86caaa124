import { Table, Tag, Typography } from 'antd';
import { get, itemsOf } from '../../api/client';
import { AsyncView } from '../../components/AsyncView';
import { yuan } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { ELDER_CATEGORIES, label } from '../../lib/labels';
import { useApi } from '../../lib/useApi';

interface Policy {
  policyId: string;
  name: string;
  nameZh?: string;
  regionCode?: string;
  kind?: string;
  benefitKind?: string;
  amountFen?: number;
  monthlyAmountFen?: number;
  copayPercent?: number;
  categories?: string[];
  eligibleCategories?: string[];
  items?: string[];
  itemCodes?: string[];
  validFrom?: string;
  validTo?: string | null;
  fundSource?: string;
  active?: boolean;
  status?: string;
}

export function PoliciesPage() {
  const { t, lang } = useI18n();
  const policies = useApi(() => get<unknown>('/policies?pageSize=100').then(itemsOf<Policy>), 'policies');
  return (
    <div>
      <Typography.Title level={3}>{t('补贴政策', 'Subsidy policies')}</Typography.Title>
      <AsyncView {...policies} isEmpty={(p) => !p.length} emptyText={t('尚未配置补贴政策', 'No subsidy policies yet')}>
        {(rows) => (
          <Table<Policy>
            rowKey="policyId"
            dataSource={rows}
            columns={[
              { title: t('政策名称', 'Policy'), render: (_, p) => p.nameZh ?? p.name },
              { title: t('补贴额度', 'Amount'), render: (_, p) => yuan(p.monthlyAmountFen ?? p.amountFen) },
              { title: t('个人自付', 'Co-pay'), render: (_, p) => (p.copayPercent === undefined ? '—' : `${p.copayPercent}%`) },
              {
                title: t('适用人群', 'Eligible groups'),
                render: (_, p) => (p.eligibleCategories ?? p.categories ?? []).map((c) => <Tag key={c}>{label(ELDER_CATEGORIES, c, lang)}</Tag>),
              },
              { title: t('服务项目', 'Items'), render: (_, p) => (p.itemCodes ?? p.items ?? []).length || '—' },
              { title: t('有效期', 'Valid'), render: (_, p) => `${p.validFrom ?? '—'} ~ ${p.validTo ?? t('长期', 'open')}` },
              { title: t('资金来源', 'Fund'), dataIndex: 'fundSource' },
            ]}
          />
        )}
      </AsyncView>
    </div>
  );
}
