import { dateReachingAge, evaluateEligibility, type EligibilityFacts } from './eligibility';
import { PolicyInputSchema } from './policy';

const elder = (over: Partial<EligibilityFacts> = {}): EligibilityFacts => ({
  regionCode: '130203001001',
  birthDate: '1940-06-15',
  categories: ['LIVING_ALONE', 'LOW_INCOME'],
  capabilityLevel: 'MODERATE',
  status: 'ACTIVE',
  ...over,
});
const CITY = '130200000000';

describe('eligibility rules', () => {
  it('an empty rule set admits every active elder in the region, and nobody outside it', () => {
    expect(evaluateEligibility(CITY, {}, elder(), '2026-01-01').eligible).toBe(true);
    const outside = evaluateEligibility(CITY, {}, elder({ regionCode: '220100000000' }), '2026-01-01');
    expect(outside.eligible).toBe(false);
    expect(outside.rules.find((r) => r.rule === 'region')).toMatchObject({ met: false });
  });

  it('never admits a deceased or moved-out elder', () => {
    expect(evaluateEligibility(CITY, {}, elder({ status: 'DECEASED' }), '2026-01-01')).toMatchObject({ eligible: false });
    expect(evaluateEligibility(CITY, {}, elder({ status: 'MOVED_OUT' }), '2026-01-01').rules[0].zh).toBe('已迁出');
  });

  it('categoriesAny needs one match, categoriesAll needs every one, and the explanation names what is missing', () => {
    expect(evaluateEligibility(CITY, { categoriesAny: ['DESTITUTE', 'LIVING_ALONE'] }, elder(), '2026-01-01').eligible).toBe(true);
    const all = evaluateEligibility(CITY, { categoriesAll: ['LIVING_ALONE', 'DISABLED'] }, elder(), '2026-01-01');
    expect(all.eligible).toBe(false);
    expect(all.rules.find((r) => r.rule === 'categoriesAll')).toMatchObject({ met: false, en: 'not in DISABLED', zh: '不属于失能/半失能' });
  });

  it('capability level: an unassessed elder does not qualify', () => {
    const rules = { capabilityLevels: ['MODERATE', 'SEVERE'] as ('MODERATE' | 'SEVERE')[] };
    expect(evaluateEligibility(CITY, rules, elder(), '2026-01-01').eligible).toBe(true);
    const none = evaluateEligibility(CITY, rules, elder({ capabilityLevel: null }), '2026-01-01');
    expect(none.rules.find((r) => r.rule === 'capabilityLevel')).toMatchObject({ met: false, zh: '尚未进行能力评估' });
  });

  it('age is completed years on the evaluation date (the day before the 80th birthday is 79)', () => {
    const rules = { minAge: 80 };
    const e = elder({ birthDate: '1946-03-10' });
    expect(evaluateEligibility(CITY, rules, e, '2026-03-09').eligible).toBe(false);
    expect(evaluateEligibility(CITY, rules, e, '2026-03-10').eligible).toBe(true);
    expect(dateReachingAge('1946-03-10', 80, '2026-01-01')).toBe('2026-03-10');
    expect(dateReachingAge('1944-02-29', 82, '2026-01-01')).toBe('2026-03-01');
    expect(dateReachingAge('1940-01-01', 80, '2026-01-01')).toBe('2026-01-01');
  });

  it('low-income and sub-region rules combine with AND', () => {
    const rules = { lowIncome: true, regionCodes: ['130203001000'], categoriesAny: ['DISABLED' as const] };
    const res = evaluateEligibility(CITY, rules, elder(), '2026-01-01');
    expect(res.eligible).toBe(false);
    expect(res.rules.filter((r) => !r.met).map((r) => r.rule)).toEqual(['categoriesAny']);
    expect(evaluateEligibility(CITY, rules, elder({ categories: ['DISABLED', 'LOW_INCOME'] }), '2026-01-01').eligible).toBe(true);
    expect(evaluateEligibility(CITY, { lowIncome: false }, elder(), '2026-01-01').eligible).toBe(false);
  });
});

describe('policy input', () => {
  const base = {
    code: 'CC-HOME-200',
    nameZh: '长春居家养老服务补贴',
    nameEn: 'Changchun home-care allowance',
    regionCode: '220100000000',
    effectiveFrom: '2026-01-01',
    benefit: { kind: 'MONTHLY_ALLOWANCE', amountFen: 20000, unusedBalance: 'LAPSE' },
    eligibleCategories: ['CLEANING'],
    funding: [{ fundSource: 'MUNICIPAL', sharePercent: 100 }],
  };
  it('accepts a well-formed policy and fills defaults', () => {
    const p = PolicyInputSchema.parse(base);
    expect(p).toMatchObject({ effectiveTo: null, eligibility: {}, priority: 100, eligibleItems: [] });
  });
  it('names the field that is wrong', () => {
    const cases: [object, string][] = [
      [{ ...base, funding: [{ fundSource: 'MUNICIPAL', sharePercent: 60 }] }, 'funding'],
      [{ ...base, effectiveTo: '2025-12-31' }, 'effectiveTo'],
      [{ ...base, benefit: { kind: 'MONTHLY_ALLOWANCE', amountFen: 199.5, unusedBalance: 'LAPSE' } }, 'benefit.amountFen'],
      [{ ...base, eligibility: { regionCodes: ['130203000000'] } }, 'eligibility.regionCodes.0'],
      [{ ...base, eligibleCategories: [] }, 'eligibleItems'],
    ];
    for (const [input, field] of cases) {
      const res = PolicyInputSchema.safeParse(input);
      expect(res.success).toBe(false);
      expect(res.error?.issues[0].path.join('.')).toBe(field);
    }
  });
});
