/** Asia/Shanghai has no daylight saving: local time is UTC+8 all year. */
const OFFSET_MS = 8 * 3_600_000;

/** Calendar date (yyyy-mm-dd) in Asia/Shanghai. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** ISO weekday (1 = Monday … 7 = Sunday) and `HH:MM` in Asia/Shanghai. */
export function chinaClock(at: Date): { day: number; time: string } {
  const local = new Date(at.getTime() + OFFSET_MS);
  const day = local.getUTCDay() === 0 ? 7 : local.getUTCDay();
  return { day, time: local.toISOString().slice(11, 16) };
}

/** The instant of `HH:MM` on `date` in Asia/Shanghai. */
export function chinaInstant(date: string, time: string): Date {
  return new Date(`${date}T${time}:00+08:00`);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** ISO weekday of a calendar date. */
export function weekdayOf(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
