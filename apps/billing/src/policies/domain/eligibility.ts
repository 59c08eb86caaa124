import { CapabilityLevels, ElderCategories } from '@yiyang/contracts';
import { regionWithin } from '@yiyang/geo';
import { ageOn } from '../../shared/dates';
import type { Eligibility } from './policy';

/** The elder facts eligibility looks at (billing's read model of the registry). */
export interface EligibilityFacts {
  regionCode: string;
  birthDate: string;
  categories: readonly string[];
  capabilityLevel: string | null;
  status: string;
}

export interface RuleOutcome {
  rule: 'status' | 'region' | 'categoriesAny' | 'categoriesAll' | 'capabilityLevel' | 'minAge' | 'maxAge' | 'regionCodes' | 'lowIncome';
  met: boolean;
  en: string;
  zh: string;
}

export interface EligibilityResult {
  eligible: boolean;
  /** Every rule checked, met or not, so an explanation can say exactly why. */
  rules: RuleOutcome[];
}

const catZh = (c: string) => ElderCategories.labels[c as keyof typeof ElderCategories.labels]?.zh ?? c;
const lvlZh = (l: string) => CapabilityLevels.labels[l as keyof typeof CapabilityLevels.labels]?.zh ?? l;

/**
 * Evaluates a policy's eligibility rules for one elder on one date. Pure: the same facts, rules and
 * date always give the same answer, and every rule's outcome is returned for the explanation.
 * All present rules must hold; an elder who is deceased or moved out is never eligible.
 */
export function evaluateEligibility(scopeRegion: string, rules: Eligibility, elder: EligibilityFacts, onDate: string): EligibilityResult {
  const out: RuleOutcome[] = [];
  const active = elder.status === 'ACTIVE';
  out.push({
    rule: 'status',
    met: active,
    en: active ? 'registered and active' : `status is ${elder.status}`,
    zh: active ? '在册' : elder.status === 'DECEASED' ? '已故' : elder.status === 'MOVED_OUT' ? '已迁出' : `状态为${elder.status}`,
  });
  const inScope = regionWithin(elder.regionCode, scopeRegion);
  out.push({
    rule: 'region',
    met: inScope,
    en: inScope ? `lives within ${scopeRegion}` : `lives outside the policy region ${scopeRegion}`,
    zh: inScope ? `居住地在政策区域 ${scopeRegion} 内` : `居住地不在政策区域 ${scopeRegion} 内`,
  });
  if (rules.regionCodes) {
    const met = rules.regionCodes.some((r) => regionWithin(elder.regionCode, r));
    out.push({ rule: 'regionCodes', met, en: met ? 'lives in a named sub-region' : `lives outside ${rules.regionCodes.join(', ')}`, zh: met ? '居住在指定区域' : `不在指定区域（${rules.regionCodes.join('、')}）` });
  }
  if (rules.categoriesAny) {
    const hit = rules.categoriesAny.filter((c) => elder.categories.includes(c));
    const met = hit.length > 0;
    out.push({
      rule: 'categoriesAny',
      met,
      en: met ? `in category ${hit.join(', ')}` : `in none of ${rules.categoriesAny.join(', ')}`,
      zh: met ? `属于${hit.map(catZh).join('、')}` : `不属于${rules.categoriesAny.map(catZh).join('、')}中任一类`,
    });
  }
  if (rules.categoriesAll) {
    const missing = rules.categoriesAll.filter((c) => !elder.categories.includes(c));
    const met = missing.length === 0;
    out.push({
      rule: 'categoriesAll',
      met,
      en: met ? `in every category ${rules.categoriesAll.join(', ')}` : `not in ${missing.join(', ')}`,
      zh: met ? `同时属于${rules.categoriesAll.map(catZh).join('、')}` : `不属于${missing.map(catZh).join('、')}`,
    });
  }
  if (rules.capabilityLevels) {
    const level = elder.capabilityLevel;
    const met = level !== null && rules.capabilityLevels.includes(level as never);
    out.push({
      rule: 'capabilityLevel',
      met,
      en: level === null ? 'not assessed yet' : met ? `capability level ${level}` : `capability level ${level} is not one of ${rules.capabilityLevels.join(', ')}`,
      zh: level === null ? '尚未进行能力评估' : met ? `能力等级为${lvlZh(level)}` : `能力等级${lvlZh(level)}不在${rules.capabilityLevels.map(lvlZh).join('、')}之列`,
    });
  }
  const age = ageOn(elder.birthDate, onDate);
  if (rules.minAge !== undefined) {
    const met = age >= rules.minAge;
    out.push({ rule: 'minAge', met, en: `aged ${age} on ${onDate} (at least ${rules.minAge} required)`, zh: `${onDate}时${age}周岁（须年满${rules.minAge}周岁）` });
  }
  if (rules.maxAge !== undefined) {
    const met = age <= rules.maxAge;
    out.push({ rule: 'maxAge', met, en: `aged ${age} on ${onDate} (at most ${rules.maxAge})`, zh: `${onDate}时${age}周岁（不超过${rules.maxAge}周岁）` });
  }
  if (rules.lowIncome !== undefined) {
    const isLow = elder.categories.includes('LOW_INCOME');
    const met = isLow === rules.lowIncome;
    out.push({
      rule: 'lowIncome',
      met,
      en: isLow ? 'receives the minimum living allowance' : 'does not receive the minimum living allowance',
      zh: isLow ? '享受低保' : '未享受低保',
    });
  }
  return { eligible: out.every((r) => r.met), rules: out };
}

/**
 * The first date (≥ from) on which an elder turns `minAge`, for grants that start on a birthday.
 * Returns `from` itself when already old enough.
 */
export function dateReachingAge(birthDate: string, minAge: number, from: string): string {
  const [y, m, d] = birthDate.split('-');
  // 29 February birthdays count from 1 March in common years (as the civil-affairs practice does).
  let birthday = `${Number(y) + minAge}-${m}-${d}`;
  if (m === '02' && d === '29' && new Date(`${birthday}T00:00:00Z`).getUTCMonth() !== 1) birthday = `${Number(y) + minAge}-03-01`;
  return birthday > from ? birthday : from;
}
