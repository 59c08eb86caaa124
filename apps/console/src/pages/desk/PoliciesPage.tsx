import { Descriptions, Table, Tag, Typography } from 'antd';
import { get, itemsOf } from '../../api/client';
import { AsyncView } from '../../components/AsyncView';
import { yuan } from '../../lib/format';
import { useI18n } from '../../lib/i18n';
import { useItemName } from '../../lib/catalogue';
import { ELDER_CATEGORIES, label } from '../../lib/labels';
import { useApi } from '../../lib/useApi';

type Benefit =
  | { kind: 'MONTHLY_ALLOWANCE'; amountFen: number; unusedBalance: 'LAPSE' | 'CARRY_OVER' }
  | { kind: 'ONE_OFF_GRANT'; amountFen: number; per: 'HOUSEHOLD' | 'ELDER' }
  | { kind: 'PER_UNIT_SUBSIDY'; maxSubsidyFenPerUnit: number; copay: { mode: 'PERCENT'; percent: number } | { mode: 'FIXED'; amountFen: number } }
  | { kind: 'OPERATING_SUBSIDY'; basis: string; amountFen: number }
  | { kind: 'CAREGIVER_SUBSIDY'; subsidy: string; amountFen: number };

interface Policy {
  _id: string;
  code: string;
  version: number;
  nameZh: string;
  nameEn: string;
  regionCode: string;
  effectiveFrom: string;
  effectiveTo: string | null;
  status: 'ACTIVE' | 'WITHDRAWN';
  eligibility: { categoriesAny?: string[]; categoriesAll?: string[]; capabilityLevels?: string[]; minAge?: number; maxAge?: number; lowIncome?: boolean };
  benefit: Benefit;
  eligibleItems: string[];
  eligibleCategories: string[];
  funding: { fundSource: string; sharePercent: number }[];
}

const FUNDS: Record<string, { zh: string; en: string }> = {
  CENTRAL_PILOT: { zh: '中央试点资金', en: 'Central pilot fund' },
  PROVINCIAL: { zh: '省级', en: 'Provincial' },
  MUNICIPAL: { zh: '市级', en: 'Municipal' },
  COUNTY: { zh: '区县', en: 'County' },
};

/** The benefit in one sentence, as a clerk would say it. */
export function benefitText(b: Benefit, t: (zh: string, en: string) => string): string {
  switch (b.kind) {
    case 'MONTHLY_ALLOWANCE':
      return t(`每人每月 ${yuan(b.amountFen)}（${b.unusedBalance === 'CARRY_OVER' ? '余额结转' : '当月有效'}）`, `${yuan(b.amountFen)} per person per month (${b.unusedBalance === 'CARRY_OVER' ? 'carried over' : 'lapses'})`);
    case 'ONE_OFF_GRANT':
      return t(`一次性 ${yuan(b.amountFen)}/${b.per === 'HOUSEHOLD' ? '户' : '人'}`, `One-off ${yuan(b.amountFen)} per ${b.per === 'HOUSEHOLD' ? 'household' : 'elder'}`);
    case 'PER_UNIT_SUBSIDY': {
      const copay = b.copay.mode === 'PERCENT' ? t(`个人自付 ${b.copay.percent}%`, `co-pay ${b.copay.percent}%`) : t(`个人自付 ${yuan(b.copay.amountFen)}`, `co-pay ${yuan(b.copay.amountFen)}`);
      return t(`每次最高补贴 ${yuan(b.maxSubsidyFenPerUnit)}，${copay}`, `Up to ${yuan(b.maxSubsidyFenPerUnit)} per unit, ${copay}`);
    }
    case 'OPERATING_SUBSIDY':
      return t(`运营补贴 ${yuan(b.amountFen)}/${b.basis === 'OCCUPIED_BED' ? '张在用床位' : '个设施'}`, `Operating subsidy ${yuan(b.amountFen)} per ${b.basis === 'OCCUPIED_BED' ? 'occupied bed' : 'facility'}`);
    case 'CAREGIVER_SUBSIDY':
      return t(`护理员${b.subsidy === 'ENTRY' ? '入职补贴' : '技能津贴'} ${yuan(b.amountFen)}`, `Caregiver ${b.subsidy === 'ENTRY' ? 'entry subsidy' : 'skill allowance'} ${yuan(b.amountFen)}`);
  }
}

export function PoliciesPage() {
  const { t, lang } = useI18n();
  const itemName = useItemName();
  const policies = useApi(() => get<unknown>('/policies').then(itemsOf<Policy>), 'policies');
  return (
    <div>
      <Typography.Title level={3}>{t('补贴政策', 'Subsidy policies')}</Typography.Title>
      <AsyncView {...policies} isEmpty={(p) => !p.length} emptyText={t('尚未配置补贴政策', 'No subsidy policies yet')}>
        {(rows) => (
          <Table<Policy>
            rowKey="_id"
            dataSource={rows}
            expandable={{
              expandedRowRender: (p) => (
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t('可用于的服务', 'Pays for')}>
                    {[...p.eligibleItems.map(itemName), ...p.eligibleCategories].join('、') || '—'}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('资金构成', 'Funding')}>
                    {p.funding.map((f) => `${FUNDS[f.fundSource] ? (lang === 'en' ? FUNDS[f.fundSource].en : FUNDS[f.fundSource].zh) : f.fundSource} ${f.sharePercent}%`).join('，')}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('适用年龄', 'Ages')}>
                    {p.eligibility.minAge ?? '—'} ~ {p.eligibility.maxAge ?? '—'}
                  </Descriptions.Item>
                </Descriptions>
              ),
            }}
            columns={[
              { title: t('政策名称', 'Policy'), render: (_, p) => (lang === 'en' ? p.nameEn : p.nameZh) },
              { title: t('版本', 'Version'), dataIndex: 'version', width: 70 },
              { title: t('补贴标准', 'Benefit'), render: (_, p) => benefitText(p.benefit, t) },
              {
                title: t('适用人群', 'Eligible groups'),
                render: (_, p) =>
                  [...(p.eligibility.categoriesAny ?? []), ...(p.eligibility.categoriesAll ?? [])].map((c) => <Tag key={c}>{label(ELDER_CATEGORIES, c, lang)}</Tag>),
              },
              { title: t('有效期', 'In force'), render: (_, p) => `${p.effectiveFrom} ~ ${p.effectiveTo ?? t('长期', 'open')}` },
              { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <Tag color={s === 'ACTIVE' ? 'green' : 'default'}>{s === 'ACTIVE' ? t('执行中', 'Active') : t('已废止', 'Withdrawn')}</Tag> },
            ]}
          />
        )}
      </AsyncView>
    </div>
  );
}
