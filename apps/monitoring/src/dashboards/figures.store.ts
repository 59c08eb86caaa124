import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@yiyang/messaging';
import type { AnyBulkWriteOperation, Model } from 'mongoose';
import { BudgetFact, FiguresApplied, RegionFigures } from './figures.schema';

/** Response-time buckets (upper bounds, seconds) for SOS and alert response medians / p90. */
export const RESPONSE_BUCKETS = [15, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1_800, 3_600, Infinity];

export function bucketOf(seconds: number): number {
  return RESPONSE_BUCKETS.findIndex((b) => seconds <= b);
}

/** Estimated quantile from bucket counts (linear within the bucket). */
export function quantile(counts: number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const target = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && seen + c >= target) {
      const lo = i === 0 ? 0 : RESPONSE_BUCKETS[i - 1];
      const hi = Number.isFinite(RESPONSE_BUCKETS[i]) ? RESPONSE_BUCKETS[i] : lo * 2;
      return Math.round(lo + ((target - seen) / c) * (hi - lo));
    }
    seen += c;
  }
  return null;
}

/** Asia/Shanghai calendar date (yyyy-mm-dd) of an instant. */
export function shanghaiDate(at: string | number | Date): string {
  return new Date(new Date(at).getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export const safeKey = (s: string) => s.replace(/[.$]/g, '_');

export interface FigureIncrement {
  /** The regions to count in (every level of the path). */
  regionPath: readonly string[];
  /** yyyy-mm-dd, Asia/Shanghai. */
  date: string;
  counters: Record<string, number>;
  providerId?: string | null;
  providerCounters?: Record<string, number>;
}

/**
 * Applies an event's increments to the figures of every region on its path, exactly once per event:
 * (1) a marker per eventId says "being applied" / "done"; (2) each region document takes the
 * `$inc` only if the eventId is not in its `pending` list, adding it in the same atomic write;
 * (3) the marker is set done; (4) the ids are pulled from `pending`. A crash at any step and the
 * redelivery that follows add nothing twice and lose nothing.
 */
@Injectable()
export class FiguresStore {
  constructor(
    @InjectModel(RegionFigures.name) private readonly figures: Model<RegionFigures>,
    @InjectModel(FiguresApplied.name) private readonly applied: Model<FiguresApplied>,
    @InjectModel(BudgetFact.name) private readonly budgets: Model<BudgetFact>,
  ) {}

  /**
   * Adds a ledger event's subsidy draws to its budgets, exactly once per event — the same marker +
   * per-document `pending` guard as `apply` (marker id `budget:<eventId>`).
   */
  async applyBudgetDraws(eventId: string, year: number, draws: { budgetId: string; fundSource: string; amountFen: number }[]): Promise<boolean> {
    const byBudget = new Map<string, { fundSource: string; amountFen: number }>();
    for (const d of draws) {
      const b = byBudget.get(d.budgetId) ?? { fundSource: d.fundSource, amountFen: 0 };
      b.amountFen += d.amountFen;
      byBudget.set(d.budgetId, b);
    }
    if (byBudget.size === 0) return false;
    const markerId = `budget:${eventId}`;
    try {
      await this.applied.collection.insertOne({ _id: markerId as never, done: false, docs: [...byBudget.keys()] });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const marker = await this.applied.findById(markerId).lean();
      if (marker?.done) return false;
    }
    const ops: AnyBulkWriteOperation<BudgetFact>[] = [...byBudget].map(([_id, b]) => ({
      updateOne: {
        filter: { _id, pending: { $ne: markerId } },
        update: { $inc: { drawnFen: b.amountFen }, $push: { pending: markerId }, $setOnInsert: { year, fundSource: b.fundSource, regionCode: null, allocatedFen: null, spentFen: 0, heldFen: 0 } },
        upsert: true,
      },
    }));
    try {
      await this.budgets.bulkWrite(ops, { ordered: false });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error; // already counted in that budget
    }
    await this.applied.updateOne({ _id: markerId }, { $set: { done: true } });
    await this.budgets.bulkWrite(
      [...byBudget.keys()].map((_id) => ({ updateOne: { filter: { _id }, update: { $pullAll: { pending: [markerId] } } } })),
      { ordered: false },
    );
    return true;
  }

  async apply(eventId: string, inc: FigureIncrement): Promise<boolean> {
    const month = inc.date.slice(0, 7);
    const day = `d${inc.date.slice(8, 10)}`;
    const docs = inc.regionPath.map((code) => `${code}:${month}`);
    try {
      await this.applied.collection.insertOne({ _id: eventId as never, done: false, docs });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const marker = await this.applied.findById(eventId).lean();
      if (marker?.done) return false;
    }
    const $inc: Record<string, number> = {};
    for (const [k, v] of Object.entries(inc.counters)) {
      if (!v) continue;
      $inc[`m.${k}`] = v;
      $inc[`d.${day}.${k}`] = v;
    }
    if (inc.providerId && inc.providerCounters) {
      for (const [k, v] of Object.entries(inc.providerCounters)) if (v) $inc[`p.${safeKey(inc.providerId)}.${k}`] = v;
    }
    if (Object.keys($inc).length > 0) {
      const ops: AnyBulkWriteOperation<RegionFigures>[] = docs.map((_id) => ({
        updateOne: { filter: { _id, pending: { $ne: eventId } }, update: { $inc, $push: { pending: eventId } }, upsert: true },
      }));
      try {
        await this.figures.bulkWrite(ops, { ordered: false });
      } catch (error) {
        // A document that already holds this eventId refuses the upsert with a duplicate key: already counted.
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    await this.applied.updateOne({ _id: eventId }, { $set: { done: true } });
    await this.figures.bulkWrite(
      docs.map((_id) => ({ updateOne: { filter: { _id }, update: { $pullAll: { pending: [eventId] } } } })),
      { ordered: false },
    );
    return true;
  }

  async read(regionCode: string, month: string): Promise<RegionFigures | null> {
    return this.figures.findById(`${regionCode}:${month}`).lean();
  }
}
