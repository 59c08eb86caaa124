import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AlertKinds, type AlertKind } from '@yiyang/contracts';
import { isRegionCode, regionLevel, regionWithin } from '@yiyang/geo';
import { AppError, parseInput, REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { DeviceDirectory } from '../devices/device-directory';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import { notFound } from '../shared/scope';
import { BudgetFact } from './figures.schema';
import { FiguresStore, quantile, RESPONSE_BUCKETS, shanghaiDate } from './figures.store';

const PeriodQuery = z.object({
  period: z
    .string()
    .regex(/^\d{4}-\d{2}(-\d{2})?$/, 'yyyy-mm (a month) or yyyy-mm-dd (a day)')
    .optional(),
});

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

/** One region's supervision dashboard ("one screen"), assembled from materialised figures in one call. */
@Injectable()
export class DashboardsService {
  constructor(
    private readonly store: FiguresStore,
    private readonly facts: RegistryFacts,
    private readonly directory: DeviceDirectory,
    @InjectModel(BudgetFact.name) private readonly budgets: Model<BudgetFact>,
  ) {}

  async dashboard(principal: Principal, regionCode: string, query: unknown) {
    const { period = shanghaiDate(Date.now()).slice(0, 7) } = parseInput(PeriodQuery, query);
    if (!isRegionCode(regionCode)) {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'regionCode: must be a 12-digit region code', { field: 'regionCode', messageZh: '区划代码无效' });
    }
    if (!REGION_ROLES.includes(principal.role) || !principal.regionCode || !regionWithin(regionCode, principal.regionCode)) {
      throw notFound('MONITORING.REGION_NOT_FOUND', 'Region', '区域');
    }
    const month = period.slice(0, 7);
    const doc = await this.store.read(regionCode, month);
    const isDay = period.length === 10;
    const c: Record<string, number> = (isDay ? doc?.d?.[`d${period.slice(8, 10)}`] : doc?.m) ?? {};
    const n = (k: string) => c[k] ?? 0;
    const buckets = (prefix: string) => RESPONSE_BUCKETS.map((_, i) => n(`${prefix}_${i}`));

    const byKind = Object.fromEntries(
      (AlertKinds.codes as AlertKind[]).map((k) => [
        k,
        {
          label: AlertKinds.labels[k],
          raised: n(`alert_${k}_raised`),
          acknowledged: n(`alert_${k}_acknowledged`),
          escalated: n(`alert_${k}_escalated`),
          resolved: n(`alert_${k}_RESOLVED`),
          falseAlarm: n(`alert_${k}_FALSE_ALARM`),
        },
      ]),
    );
    const sos = buckets('sosResp');
    const alertResp = buckets('alertResp');

    return {
      regionCode,
      regionName: this.facts.regionName(regionCode) ?? null,
      level: regionLevel(regionCode),
      period: { kind: isDay ? 'day' : 'month', value: period },
      orders: { placed: n('ordersPlaced'), completed: n('ordersCompleted'), arrivals: n('arrivals'), onTimeRate: ratio(n('arrivalsOnTime'), n('arrivals')) },
      sosResponse: { count: n('sosResponses'), medianSeconds: quantile(sos, 0.5), p90Seconds: quantile(sos, 0.9) },
      visits: { verified: n('visitsVerified'), flagged: n('visitsFlagged'), verifiedShare: ratio(n('visitsVerified'), n('visitsVerified') + n('visitsFlagged')) },
      satisfaction: { ratings: n('ratings'), averageStars: ratio(n('ratingStars'), n('ratings')), complaints: n('complaints') },
      rounds: { due: n('roundsDue'), completed: n('roundsCompleted'), overdue: n('roundsOverdue'), completionRate: ratio(n('roundsCompleted'), n('roundsDue')) },
      alerts: { raised: n('alertsRaised'), byKind, responseMedianSeconds: quantile(alertResp, 0.5), responseP90Seconds: quantile(alertResp, 0.9) },
      coverage: this.coverage(regionCode),
      subsidy: { spentFen: n('subsidyFen'), grossFen: n('grossFen'), copayFen: n('copayFen'), heldFen: n('heldFen'), budget: await this.budget(regionCode, Number(month.slice(0, 4))) },
      providers: { period: month, ranking: this.ranking(doc?.p ?? {}) },
    };
  }

  /** Current coverage, from the registry facts and the device registry held in memory. */
  private coverage(regionCode: string) {
    let elders = 0;
    let livingAlone = 0;
    let withDevices = 0;
    for (const e of this.facts.allElders()) {
      if (e.status !== 'ACTIVE' || !e.regionPath.includes(regionCode)) continue;
      elders++;
      if (e.categories.includes('LIVING_ALONE')) livingAlone++;
      if (this.directory.ofElder(e._id).length > 0) withDevices++;
    }
    const devicesByKind: Record<string, number> = {};
    let devices = 0;
    for (const d of this.directory.all()) {
      if (!d.active || !d.regionPath.includes(regionCode)) continue;
      devices++;
      devicesByKind[d.kind] = (devicesByKind[d.kind] ?? 0) + 1;
    }
    const facilitiesByKind: Record<string, number> = {};
    for (const f of this.facts.allFacilities()) {
      if (f.open && f.regionPath.includes(regionCode)) facilitiesByKind[f.kind] = (facilitiesByKind[f.kind] ?? 0) + 1;
    }
    return { elders, livingAlone, eldersWithDevices: withDevices, deviceCoverageRate: ratio(withDevices, elders), devices, devicesByKind, facilitiesByKind };
  }

  private async budget(regionCode: string, year: number) {
    const all = await this.budgets.find({ year }).lean();
    // A budget is placed by the region its threshold events name; until then it has no allocation to compare with.
    const inside = all.filter((b) => b.regionCode !== null && isRegionCode(b.regionCode) && regionWithin(b.regionCode, regionCode));
    const allocatedFen = inside.reduce((s, b) => s + (b.allocatedFen ?? 0), 0);
    // Current spend: what the ledger drew since (counted per charge), or billing's last threshold figure if higher.
    const spentFen = inside.reduce((s, b) => s + Math.max(b.spentFen ?? 0, b.drawnFen ?? 0), 0);
    const heldFen = inside.reduce((s, b) => s + b.heldFen, 0);
    return { year, budgets: inside.length, allocatedFen, spentFen, heldFen, usedRate: ratio(spentFen, allocatedFen) };
  }

  /**
   * Provider quality: average rating (40 %), punctuality (25 %), verified-visit share (25 %), and
   * complaints per completed order (10 %, fewer is better). A component without data counts as neutral 0.5.
   */
  private ranking(p: Record<string, Record<string, number>>) {
    return Object.entries(p)
      .map(([providerId, c]) => {
        const g = (k: string) => c[k] ?? 0;
        const stars = ratio(g('ratingStars'), g('ratings'));
        const onTime = ratio(g('onTime'), g('arrivals'));
        const verified = ratio(g('verified'), g('verified') + g('flagged'));
        const complaintRate = g('completed') > 0 ? Math.min(1, g('complaints') / g('completed')) : g('complaints') > 0 ? 1 : null;
        const score =
          0.4 * (stars !== null ? (stars - 1) / 4 : 0.5) +
          0.25 * (onTime ?? 0.5) +
          0.25 * (verified ?? 0.5) +
          0.1 * (complaintRate !== null ? 1 - complaintRate : 0.5);
        return {
          providerId,
          score: Math.round(score * 1000) / 10,
          ratings: g('ratings'),
          averageStars: stars,
          onTimeRate: onTime,
          verifiedShare: verified,
          flaggedVisits: g('flagged'),
          complaints: g('complaints'),
          completedOrders: g('completed'),
        };
      })
      .sort((a, b) => b.score - a.score)
      .map((r, i) => ({ rank: i + 1, ...r }));
  }
}
