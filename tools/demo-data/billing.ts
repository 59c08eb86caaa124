/**
 * Billing demo data for `npm start`: the subsidy policies of the field's real examples, set up for
 * the demo district (Lubei, Tangshan), and the year's fund budgets. Talks to the RUNNING billing
 * service over HTTP with an internal token, like load.ts does for the registry; billing learns the
 * elders, prices and facilities from the registry's Kafka events and grants entitlements by itself.
 * Idempotent: a policy code already on file is left as it is; budgets are set to the same figures.
 *
 * Env: BILLING_URL (http://127.0.0.1:3003)  INTERNAL_TOKEN_SECRET (local default)
 */
import { mintInternalToken, type Principal } from '@yiyang/service-kit';
import { DISTRICT_CODE } from './district';

const BASE = process.env['BILLING_URL'] ?? 'http://127.0.0.1:3003';
const SECRET = process.env['INTERNAL_TOKEN_SECRET'] ?? 'yiyang-local-development-internal-token-secret';
const ADMIN: Principal = { userId: 'demo-loader', role: 'civil_affairs_admin', regionCode: DISTRICT_CODE };
const say = (line: string) => process.stdout.write(`[demo-data:billing] ${line}\n`);

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${mintInternalToken(SECRET, ADMIN)}`,
      'x-correlation-id': `demo-billing-${Date.now().toString(36)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const YEAR = Number(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 4));
const FROM = `${YEAR}-01-01`;

/** The 11 kinds of home service Changchun buys with its allowance. */
const CHANGCHUN_ELEVEN = [
  'MEAL_DELIVERY', 'HOME_CLEANING', 'LAUNDRY', 'HAIRCUT', 'BATHING_AT_HOME', 'MEDICAL_ESCORT', 'MEDICATION_REMINDER',
  'MOBILITY_ASSISTANCE', 'ERRANDS_SHOPPING', 'REHAB_PHYSIOTHERAPY', 'EMOTIONAL_SUPPORT_VISIT',
];

export const DEMO_POLICIES = [
  {
    code: 'HOME-CARE-ALLOWANCE',
    nameZh: '居家养老服务补贴（参照长春：每人每月200元）',
    nameEn: 'Home-care allowance (after Changchun: 200 yuan per person per month)',
    regionCode: DISTRICT_CODE,
    effectiveFrom: FROM,
    // Changchun names 10 special/difficult groups; the registry's vocabulary has these 9 of them.
    eligibility: { categoriesAny: ['LIVING_ALONE', 'EMPTY_NEST', 'LEFT_BEHIND', 'DESTITUTE', 'ADVANCED_AGE', 'SEVERELY_DISABLED', 'DISABLED', 'SPECIAL_FAMILY_PLANNING', 'LOW_INCOME'] },
    benefit: { kind: 'MONTHLY_ALLOWANCE', amountFen: 20_000, unusedBalance: 'LAPSE' },
    eligibleItems: CHANGCHUN_ELEVEN,
    funding: [{ fundSource: 'MUNICIPAL', sharePercent: 50 }, { fundSource: 'COUNTY', sharePercent: 50 }],
    priority: 100,
  },
  {
    code: 'HOME-ADAPTATION-GRANT',
    nameZh: '适老化改造补贴（参照沂源：每户2000元，一户一案）',
    nameEn: 'Age-friendly home renovation grant (after Yiyuan: 2,000 yuan per household)',
    regionCode: DISTRICT_CODE,
    effectiveFrom: FROM,
    eligibility: { lowIncome: true, capabilityLevels: ['MODERATE', 'SEVERE', 'COMPLETE_LOSS'] },
    benefit: { kind: 'ONE_OFF_GRANT', amountFen: 200_000, per: 'HOUSEHOLD' },
    eligibleCategories: ['HOME_ADAPTATION'],
    funding: [{ fundSource: 'CENTRAL_PILOT', sharePercent: 100 }],
    priority: 50,
  },
  {
    code: 'CANTEEN-MEAL',
    nameZh: '长者食堂助餐补贴（每餐最高补5元，个人自付40%、最多8元）',
    nameEn: 'Elder canteen meal subsidy (up to 5 yuan a meal; the elder pays 40%, at most 8 yuan)',
    regionCode: DISTRICT_CODE,
    effectiveFrom: FROM,
    eligibility: { minAge: 60 },
    benefit: { kind: 'PER_UNIT_SUBSIDY', maxSubsidyFenPerUnit: 500, copay: { mode: 'PERCENT', percent: 40, capFen: 800 } },
    eligibleItems: ['MEAL_AT_CANTEEN'],
    funding: [{ fundSource: 'PROVINCIAL', sharePercent: 50 }, { fundSource: 'COUNTY', sharePercent: 50 }],
  },
  {
    code: 'BED-OPERATING',
    nameZh: '养老机构运营补贴（每张入住床位每月100元）',
    nameEn: 'Operating subsidy (100 yuan per occupied bed per month)',
    regionCode: DISTRICT_CODE,
    effectiveFrom: FROM,
    benefit: { kind: 'OPERATING_SUBSIDY', basis: 'OCCUPIED_BED', amountFen: 10_000, facilityKinds: ['INSTITUTION', 'STREET_CENTRE'] },
    funding: [{ fundSource: 'MUNICIPAL', sharePercent: 100 }],
  },
  {
    code: 'CAREGIVER-ENTRY',
    nameZh: '养老护理员入职补贴（一次性3000元）',
    nameEn: 'Caregiver entry subsidy (3,000 yuan once)',
    regionCode: DISTRICT_CODE,
    effectiveFrom: FROM,
    benefit: { kind: 'CAREGIVER_SUBSIDY', subsidy: 'ENTRY', amountFen: 300_000 },
    funding: [{ fundSource: 'PROVINCIAL', sharePercent: 100 }],
  },
  {
    code: 'CAREGIVER-SKILL',
    nameZh: '养老护理员技能津贴（持证每月200元）',
    nameEn: 'Caregiver skill allowance (200 yuan a month with a certificate)',
    regionCode: DISTRICT_CODE,
    effectiveFrom: FROM,
    benefit: { kind: 'CAREGIVER_SUBSIDY', subsidy: 'SKILL_ALLOWANCE', amountFen: 20_000, certification: '养老护理员职业技能等级证书' },
    funding: [{ fundSource: 'PROVINCIAL', sharePercent: 100 }],
  },
];

/** The year's fund budgets for the district, in fen. */
export const DEMO_BUDGETS = [
  { fundSource: 'CENTRAL_PILOT', allocatedFen: 200_000_000 },
  { fundSource: 'PROVINCIAL', allocatedFen: 150_000_000 },
  { fundSource: 'MUNICIPAL', allocatedFen: 300_000_000 },
  { fundSource: 'COUNTY', allocatedFen: 250_000_000 },
];

export async function seedBilling(): Promise<void> {
  // Budgets first: creating a caregiver policy pays the caregivers billing already knows (entry
  // subsidy, this month's skill allowance), and a share without a budget would be held.
  for (const b of DEMO_BUDGETS) {
    const res = await call('PUT', `/budgets/${b.fundSource}/${YEAR}/${DISTRICT_CODE}`, { allocatedFen: b.allocatedFen });
    if (res.status !== 200) throw new Error(`PUT budget ${b.fundSource} → ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  }
  let created = 0;
  for (const policy of DEMO_POLICIES) {
    const existing = await call('GET', `/policies/${policy.code}`);
    if (existing.status === 200) continue;
    const res = await call('POST', '/policies', policy);
    if (res.status !== 201) throw new Error(`POST /policies ${policy.code} → ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
    created++;
  }
  say(`${created} policies created (${DEMO_POLICIES.length - created} already there), ${DEMO_BUDGETS.length} budgets for ${YEAR}`);
}

if (require.main === module) {
  seedBilling().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
