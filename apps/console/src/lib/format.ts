/** Money is integer fen everywhere; shown as yuan with two decimals. */
export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return '—';
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.round(fen));
  const y = Math.floor(abs / 100).toLocaleString('zh-CN');
  return `${sign}¥${y}.${String(abs % 100).padStart(2, '0')}`;
}

/** A 0–1 share as a percentage; null (no denominator) shows a dash. */
export const percent = (share: number | null | undefined, digits = 1): string =>
  share === null || share === undefined || !Number.isFinite(share) ? '—' : `${(share * 100).toFixed(digits)}%`;

/** Date-time in China time, as people here read it: 2026-11-23 11:20. */
export function chinaTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const c = new Date(d.getTime() + 8 * 3_600_000);
  return `${c.toISOString().slice(0, 10)} ${c.toISOString().slice(11, 16)}`;
}

/** "3 分钟前" / "3 min ago". */
export function ago(iso: string | number | null | undefined, lang: string, now = Date.now()): string {
  if (iso === null || iso === undefined) return '—';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (!Number.isFinite(s)) return '—';
  const [n, zh, en] = s < 60 ? [s, '秒', 's'] : s < 3600 ? [Math.floor(s / 60), '分钟', 'min'] : s < 86400 ? [Math.floor(s / 3600), '小时', 'h'] : [Math.floor(s / 86400), '天', 'd'];
  return lang === 'en' ? `${n} ${en} ago` : `${n}${zh}前`;
}

/** Month in Asia/Shanghai as yyyy-mm, optionally shifted. */
export function chinaMonth(now = new Date(), shift = 0): string {
  const c = new Date(now.getTime() + 8 * 3_600_000);
  const d = new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth() + shift, 1));
  return d.toISOString().slice(0, 7);
}

/** Duration in minutes between two instants, or null. */
export const minutesBetween = (from?: string | null, to?: string | null): number | null =>
  from && to ? Math.round((new Date(to).getTime() - new Date(from).getTime()) / 60_000) : null;
