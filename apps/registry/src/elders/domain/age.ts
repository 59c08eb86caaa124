/**
 * Dates here are calendar dates in China Standard Time: an elder turns 80 on their birthday in
 * Beijing, not at UTC midnight. Dates are ISO strings, so comparing them as strings is comparing them
 * as dates — which also lets the database do it on an index.
 */
export const ADVANCED_AGE_YEARS = 80;

const CST = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

export function chinaDate(at: Date): string {
  return CST.format(at);
}

/** The latest birth date of someone who is at least `years` old on `onDate` (a 29 February birthday counts from 1 March). */
export function bornOnOrBefore(onDate: string, years: number): string {
  return `${String(Number(onDate.slice(0, 4)) - years).padStart(4, '0')}${onDate.slice(4)}`;
}

export function isAdvancedAge(birthDate: string, onDate: string): boolean {
  return birthDate <= bornOnOrBefore(onDate, ADVANCED_AGE_YEARS);
}

/** The day the elder turned (or turns) 80 — when the 高龄 category takes effect. */
export function advancedAgeFrom(birthDate: string): string {
  const year = String(Number(birthDate.slice(0, 4)) + ADVANCED_AGE_YEARS).padStart(4, '0');
  const candidate = `${year}${birthDate.slice(4)}`;
  // 29 February in a year that has none: the birthday is reached on 1 March.
  return new Date(`${candidate}T00:00:00Z`).toISOString().slice(0, 10) === candidate ? candidate : `${year}-03-01`;
}
