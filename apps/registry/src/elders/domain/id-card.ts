import type { Gender } from '@yiyang/contracts';

/**
 * Resident ID-card numbers (居民身份证号码), GB 11643-1999: 6 digits of the issuing region, 8 of the
 * birth date (YYYYMMDD), 3 of a sequence whose last digit is odd for men and even for women, and a
 * check character computed with ISO 7064 MOD 11-2. A typo almost always breaks the checksum, so the
 * registry refuses it at the door instead of letting a wrong identity into the roster.
 */
export type IdCardProblem =
  | { reason: 'FORMAT'; message: string; messageZh: string }
  | { reason: 'CHECKSUM'; message: string; messageZh: string }
  | { reason: 'BIRTH_DATE'; message: string; messageZh: string }
  | { reason: 'BIRTH_DATE_MISMATCH'; message: string; messageZh: string }
  | { reason: 'GENDER_MISMATCH'; message: string; messageZh: string };

export interface IdCardFacts {
  /** Upper-case, 18 characters. */
  number: string;
  birthDate: string;
  gender: Gender;
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

export function normaliseIdCard(raw: string): string {
  return raw.trim().toUpperCase();
}

export function idCardCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

/** A valid number from its parts (demo data, tests): region, YYYY-MM-DD, 3-digit sequence. */
export function composeIdCard(region: string, birthDate: string, sequence: string): string {
  const first17 = `${region}${birthDate.replaceAll('-', '')}${sequence}`;
  return first17 + idCardCheckChar(first17);
}

export function isRealDate(iso: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) return false;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso;
}

/** Reads the facts an ID number carries, or says precisely why it is not a valid one. */
export function parseIdCard(raw: string, today: string): { ok: true; facts: IdCardFacts } | { ok: false; problem: IdCardProblem } {
  const number = normaliseIdCard(raw);
  if (!/^\d{17}[\dX]$/.test(number)) {
    return fail('FORMAT', 'must be 18 characters: 17 digits and a check digit or X', '应为18位：17位数字加1位校验码（数字或X）');
  }
  if (idCardCheckChar(number.slice(0, 17)) !== number[17]) {
    return fail('CHECKSUM', 'check digit does not match (ISO 7064 MOD 11-2); please re-check the number', '校验码不符，请核对号码');
  }
  const birthDate = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`;
  if (!isRealDate(birthDate) || birthDate < '1890-01-01' || birthDate > today) {
    return fail('BIRTH_DATE', `embedded birth date ${birthDate} is not a real past date`, `号码中的出生日期 ${birthDate} 无效`);
  }
  const gender: Gender = Number(number[16]) % 2 === 1 ? 'MALE' : 'FEMALE';
  return { ok: true, facts: { number, birthDate, gender } };
}

/** Cross-checks the ID with the birth date and gender entered beside it. */
export function checkIdCardAgainst(
  facts: IdCardFacts,
  given: { birthDate?: string | null; gender: Gender },
): IdCardProblem | null {
  if (given.birthDate && given.birthDate !== facts.birthDate) {
    return {
      reason: 'BIRTH_DATE_MISMATCH',
      message: `birth date in the ID (${facts.birthDate}) differs from birthDate ${given.birthDate}`,
      messageZh: `身份证号中的出生日期（${facts.birthDate}）与填写的出生日期（${given.birthDate}）不一致`,
    };
  }
  if (given.gender !== facts.gender) {
    return {
      reason: 'GENDER_MISMATCH',
      message: `the ID belongs to a ${facts.gender === 'MALE' ? 'man' : 'woman'} but gender is ${given.gender}`,
      messageZh: `身份证号显示性别为${facts.gender === 'MALE' ? '男' : '女'}，与填写的性别不一致`,
    };
  }
  return null;
}

function fail(reason: IdCardProblem['reason'], message: string, messageZh: string) {
  return { ok: false as const, problem: { reason, message, messageZh } as IdCardProblem };
}
