/**
 * Calendar arithmetic in Asia/Shanghai. China has observed no daylight-saving time since 1991, so
 * local time is always UTC+08:00 and a fixed offset is exact (no tz database needed).
 */
const OFFSET_MS = 8 * 60 * 60 * 1000;

/** The Asia/Shanghai calendar date (yyyy-mm-dd) of an instant. */
export function chinaDate(instant: Date | string | number): string {
  return new Date(new Date(instant).getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** The Asia/Shanghai month (yyyy-mm) of a calendar date or an instant. */
export function monthOf(dateOrInstant: string | Date): string {
  if (typeof dateOrInstant === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(dateOrInstant)) return dateOrInstant.slice(0, 7);
  return chinaDate(dateOrInstant).slice(0, 7);
}

export function todayInChina(now = new Date()): string {
  return chinaDate(now);
}

export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The instants [start, end) of a month in Asia/Shanghai, as UTC Dates. */
export function monthBounds(month: string): { start: Date; end: Date } {
  const start = new Date(Date.parse(`${month}-01T00:00:00+08:00`));
  const end = new Date(Date.parse(`${nextMonth(month)}-01T00:00:00+08:00`));
  return { start, end };
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Completed years of age on `onDate` for someone born on `birthDate` (both yyyy-mm-dd). */
export function ageOn(birthDate: string, onDate: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number);
  const [y, m, d] = onDate.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

export const IsoDateRegex = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const MonthRegex = /^\d{4}-(0[1-9]|1[0-2])$/;
