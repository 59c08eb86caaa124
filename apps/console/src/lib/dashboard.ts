/**
 * Reads the supervision figures out of monitoring's dashboard answer. The console names the
 * figures it shows and looks each up under the names a KPI service commonly uses, so a renamed or
 * missing figure shows a dash instead of breaking the screen.
 */
export interface Kpis {
  ordersPlaced: number | null;
  ordersCompleted: number | null;
  onTimeShare: number | null;
  sosCount: number | null;
  arrivals: number | null;
  visitsVerified: number | null;
  visitsFlagged: number | null;
  complaints: number | null;
  devices: number | null;
  deviceCoverageShare: number | null;
  sosMedianResponseSeconds: number | null;
  alertsRaised: number | null;
  alertsOpen: number | null;
  roundsDue: number | null;
  roundsCompleted: number | null;
  roundsOverdue: number | null;
  satisfaction: number | null;
  ratings: number | null;
  subsidySpentFen: number | null;
  budgetFen: number | null;
  alertsByKind: { kind: string; count: number }[];
  ordersByState: { state: string; count: number }[];
  providerRanking: { providerId: string; name: string; score: number | null; orders: number | null; onTimeShare: number | null; satisfaction: number | null }[];
  trend: { date: string; orders: number | null; alerts: number | null }[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The value at a dotted path, or undefined. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function num(obj: unknown, ...paths: string[]): number | null {
  for (const p of paths) {
    const v = at(obj, p);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

/** A share may come as 0–1 or as a percentage; the console always works in 0–1. */
export function share(obj: unknown, ...paths: string[]): number | null {
  const v = num(obj, ...paths);
  if (v === null) return null;
  return v > 1 ? v / 100 : v;
}

function counts(obj: unknown, keyName: string, ...paths: string[]): { key: string; count: number }[] {
  for (const p of paths) {
    const v = at(obj, p);
    if (Array.isArray(v)) {
      return v
        .filter(isObj)
        .map((x) => ({ key: String(x[keyName] ?? x['key'] ?? x['code'] ?? x['name'] ?? ''), count: num(x, 'count', 'n', 'value', 'total') ?? 0 }))
        .filter((x) => x.key);
    }
    if (isObj(v)) {
      // { SOS: 3 } or { SOS: { raised: 3, … } }
      return Object.entries(v)
        .map(([key, n]) => ({ key, count: typeof n === 'number' ? n : (num(n, 'raised', 'count', 'total', 'n') ?? NaN) }))
        .filter((x) => Number.isFinite(x.count));
    }
  }
  return [];
}

export function readKpis(raw: unknown): Kpis {
  const d = isObj(raw) && isObj(raw['kpis']) ? { ...raw, ...raw['kpis'] } : raw;
  const ranking = ((): unknown[] => {
    for (const p of ['providerRanking', 'providers', 'ranking', 'providers.ranking']) {
      const v = at(d, p);
      if (Array.isArray(v)) return v;
    }
    return [];
  })();
  const trend = ((): unknown[] => {
    for (const p of ['trend', 'daily', 'series', 'timeline']) {
      const v = at(d, p);
      if (Array.isArray(v)) return v;
    }
    return [];
  })();
  return {
    ordersPlaced: num(d, 'orders.placed', 'orders.total', 'orders.count', 'ordersPlaced'),
    ordersCompleted: num(d, 'orders.completed', 'orders.done', 'ordersCompleted'),
    onTimeShare: share(d, 'orders.onTimeShare', 'orders.onTimeRate', 'orders.onTime.share', 'onTimeShare', 'onTimeRate', 'onTime.share'),
    sosCount: num(d, 'sosResponse.count', 'sos.count', 'sos.raised', 'sos.total', 'emergencies.count', 'emergencies.raised'),
    arrivals: num(d, 'orders.arrivals', 'arrivals'),
    visitsVerified: num(d, 'visits.verified', 'visitsVerified'),
    visitsFlagged: num(d, 'visits.flagged', 'visitsFlagged'),
    complaints: num(d, 'satisfaction.complaints', 'complaints'),
    devices: num(d, 'coverage.devices', 'devices.total'),
    deviceCoverageShare: share(d, 'coverage.deviceCoverageRate', 'devices.coverageRate'),
    sosMedianResponseSeconds: num(
      d,
      'sosResponse.medianSeconds',
      'sos.medianResponseSeconds',
      'sos.responseSeconds.median',
      'sos.p50ResponseSeconds',
      'sosResponse.medianSeconds',
      'sos.avgResponseSeconds',
      'emergencies.medianResponseSeconds',
    ),
    alertsRaised: num(d, 'alerts.raised', 'alerts.total', 'alerts.count'),
    alertsOpen: num(d, 'alerts.open', 'alerts.active', 'openAlerts'),
    roundsDue: num(d, 'rounds.due', 'rounds.planned', 'rounds.total'),
    roundsCompleted: num(d, 'rounds.completed', 'rounds.done'),
    roundsOverdue: num(d, 'rounds.overdue', 'rounds.missed'),
    satisfaction: num(d, 'satisfaction.averageStars', 'satisfaction.average', 'satisfaction.avgStars', 'satisfaction.mean', 'satisfaction.score', 'satisfaction'),
    ratings: num(d, 'satisfaction.ratings', 'satisfaction.count', 'satisfaction.n'),
    subsidySpentFen: num(d, 'subsidy.spentFen', 'subsidy.spent', 'budget.spentFen', 'subsidySpentFen'),
    // A region with no budget of its own (budgets: 0) has no figure here; the caller looks higher up.
    budgetFen: num(d, 'subsidy.budget.budgets') === 0 ? null : num(d, 'subsidy.budget.allocatedFen', 'subsidy.budgetFen', 'subsidy.allocatedFen', 'budget.allocatedFen', 'budget.budgetFen', 'budgetFen'),
    alertsByKind: counts(d, 'kind', 'alerts.byKind', 'alertsByKind')
      .filter(({ count }) => count > 0)
      .map(({ key, count }) => ({ kind: key, count })),
    ordersByState: counts(d, 'state', 'orders.byState', 'ordersByState').map(({ key, count }) => ({ state: key, count })),
    providerRanking: ranking.filter(isObj).map((p) => ({
      providerId: String(p['providerId'] ?? p['id'] ?? ''),
      name: String(p['name'] ?? p['providerName'] ?? p['providerId'] ?? ''),
      score: num(p, 'score', 'rankScore'),
      orders: num(p, 'completedOrders', 'orders', 'ordersCompleted', 'completed', 'orders.completed'),
      onTimeShare: share(p, 'onTimeShare', 'onTimeRate', 'onTime'),
      satisfaction: num(p, 'averageStars', 'satisfaction', 'avgStars', 'rating'),
    })),
    trend: trend.filter(isObj).map((x) => ({
      date: String(x['date'] ?? x['day'] ?? x['bucket'] ?? ''),
      orders: num(x, 'orders', 'ordersPlaced', 'placed'),
      alerts: num(x, 'alerts', 'alertsRaised', 'raised'),
    })),
  };
}

export type Period = 'today' | 'month' | 'lastMonth';

/** monitoring's `?period=`: a China-time day (yyyy-mm-dd) or month (yyyy-mm). */
export function periodParam(period: Period, now = new Date()): string {
  const c = new Date(now.getTime() + 8 * 3_600_000);
  if (period === 'today') return c.toISOString().slice(0, 10);
  if (period === 'month') return c.toISOString().slice(0, 7);
  return new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** Where the drill-down goes next: county → street → community, nothing below. */
export const childLevel = (level: string): string | null =>
  ({ PROVINCE: 'CITY', CITY: 'COUNTY', COUNTY: 'STREET', STREET: 'COMMUNITY' } as Record<string, string>)[level] ?? null;

/** Level from the 12-digit statistical code (the registry's rule): 130203000000 county, 130203001000 street, 130203001001 community. */
export function levelOfCode(code: string): string | null {
  if (!/^\d{12}$/.test(code)) return null;
  if (code.slice(2) === '0000000000') return 'PROVINCE';
  if (code.slice(4) === '00000000') return 'CITY';
  if (code.slice(6) === '000000') return 'COUNTY';
  if (code.slice(9) === '000') return 'STREET';
  return 'COMMUNITY';
}

/** Degrees of longitude per metre at a latitude (for drawing walking circles on lng/lat axes). */
export const lngDegreesPerMetre = (lat: number): number => 1 / (111_320 * Math.cos((lat * Math.PI) / 180));
export const latDegreesPerMetre = 1 / 110_574;

/** Bounds around points with a margin, for the map-like chart; null when there is nothing to show. */
export function bounds(points: { lat: number; lng: number }[], marginMetres = 1_200): { minLat: number; maxLat: number; minLng: number; maxLng: number } | null {
  const ok = points.filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lng));
  if (!ok.length) return null;
  const lats = ok.map((p) => p.lat);
  const lngs = ok.map((p) => p.lng);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const dLat = marginMetres * latDegreesPerMetre;
  const dLng = marginMetres * lngDegreesPerMetre(midLat);
  return { minLat: Math.min(...lats) - dLat, maxLat: Math.max(...lats) + dLat, minLng: Math.min(...lngs) - dLng, maxLng: Math.max(...lngs) + dLng };
}

export interface BudgetRow {
  regionCode: string;
  allocatedFen: number;
  spentFen: number;
}

/**
 * Budget figures for a region: the budgets set inside it (county, street), or — when funds are
 * allocated only higher up, as is usual — the nearest enclosing level's budgets.
 */
export function budgetTotals(budgets: BudgetRow[], regionCode: string): { allocatedFen: number; spentFen: number; regionCode: string } | null {
  const prefixOf = (code: string) => code.replace(/0+$/, '');
  const inside = budgets.filter((b) => b.regionCode.startsWith(prefixOf(regionCode)));
  const chosen = inside.length
    ? inside
    : (() => {
        const ancestors = budgets.filter((b) => regionCode.startsWith(prefixOf(b.regionCode)));
        const nearest = Math.max(-1, ...ancestors.map((b) => prefixOf(b.regionCode).length));
        return ancestors.filter((b) => prefixOf(b.regionCode).length === nearest);
      })();
  if (!chosen.length) return null;
  return { allocatedFen: chosen.reduce((s, b) => s + b.allocatedFen, 0), spentFen: chosen.reduce((s, b) => s + b.spentFen, 0), regionCode: chosen[0].regionCode };
}
