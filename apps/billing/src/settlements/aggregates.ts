import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import { isDuplicateKeyError } from '@yiyang/messaging';
import { nextMonth } from '../shared/dates';
import { addLine, emptyTotals, type SettlementJournal, type StatementTotals } from './domain/statement';

/**
 * Running per-provider-month totals, maintained as journals post, so issuing a month's statements
 * reads a few thousand small documents whatever the size of the ledger (docs/adr/0008-billing.md,
 * "Settlement from running totals").
 *
 * A provider's month is split into `AGG_BUCKETS` bucket documents (`agg:<provider>:<month>:<n>`,
 * bucket = hash of the journal id) so no document grows without bound and concurrent postings
 * rarely touch the same one. Each bucket holds the totals AND the ids of the journals it counted
 * (`applied`): adding a journal is ONE conditional update — "$inc the totals and $push the id,
 * unless the id is already there or the bucket is closed" — so a redelivered, retried or
 * concurrently posted journal can never be counted twice, and a crash between the journal insert and
 * this update is repaired by the redelivery that re-runs it. `applied` is also the statement's list
 * of lines: the export reads exactly the journals the totals counted, by `_id` (an index lookup).
 *
 * Approval closes the month's buckets first (`closed: true`, created empty if missing) and then sums
 * them; any later posting for that month fails the `closed` condition and moves on to the next open
 * month as an adjustment — the late-event rule, with no window between the frozen totals and the
 * lines they count.
 */
export const AGG_BUCKETS = 32;

export type AggregateTotals = Omit<StatementTotals, 'operatingSubsidyFen' | 'payableFen'>;
const SUMMED = ['lineCount', 'grossFen', 'subsidyFen', 'copayFen', 'adjustmentSubsidyFen', 'adjustmentCopayFen', 'heldFen', 'caregiverSubsidyFen'] as const satisfies readonly (keyof AggregateTotals)[];

export interface MonthAggregate {
  _id: string;
  providerId: string;
  month: string;
  bucket: number;
  closed: boolean;
  /** Ids of the journals counted in `totals`, in the order they were added. */
  applied: string[];
  totals: AggregateTotals;
}

/** FNV-1a of the journal id: a stable bucket, the same on every replica and every retry. */
export function bucketOf(journalId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < journalId.length; i++) {
    h ^= journalId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % AGG_BUCKETS;
}

export const aggregateId = (providerId: string, month: string, bucket: number) => `agg:${providerId}:${month}:${String(bucket).padStart(2, '0')}`;
export const aggregateIdsOf = (providerId: string, month: string) => Array.from({ length: AGG_BUCKETS }, (_, b) => aggregateId(providerId, month, b));

/** What one journal adds to the statement of `month` (the same rule the line export labels with). */
export function lineDelta(j: SettlementJournal, month: string): AggregateTotals {
  const t = emptyTotals();
  addLine(t, j, month);
  const out = {} as AggregateTotals;
  for (const k of SUMMED) out[k] = t[k];
  return out;
}

const incOf = (delta: AggregateTotals) => Object.fromEntries(SUMMED.filter((k) => delta[k] !== 0).map((k) => [`totals.${k}`, delta[k]]));

/**
 * Counts a journal on the first month, from `startMonth` on, whose bucket is still open — exactly
 * once. Returns the month it is counted on (also when it already was).
 */
export async function applyToAggregates(aggregates: Collection<MonthAggregate>, j: SettlementJournal & { providerId: string }, startMonth: string): Promise<string> {
  const bucket = bucketOf(j._id);
  let month = startMonth;
  for (let hops = 0; hops < 240; ) {
    const _id = aggregateId(j.providerId, month, bucket);
    const delta = lineDelta(j, month);
    let counted = false;
    try {
      const res = await aggregates.updateOne(
        { _id, closed: { $ne: true }, applied: { $ne: j._id } },
        { $inc: incOf(delta), $push: { applied: j._id }, $setOnInsert: { providerId: j.providerId, month, bucket, closed: false } } as never,
        { upsert: true },
      );
      counted = res.matchedCount === 1 || res.upsertedCount === 1;
    } catch (error) {
      // The upsert met the existing bucket: it is closed or already counts the journal.
      if (!isDuplicateKeyError(error)) throw error;
    }
    if (counted) return month;
    const doc = await aggregates.findOne({ _id }, { projection: { closed: 1, applied: 1 } });
    if (doc?.applied.includes(j._id)) return month;
    if (doc?.closed) {
      month = nextMonth(month);
      hops++;
    }
    // Neither: a concurrent writer created the bucket between our two steps — try again.
  }
  throw new Error(`no open statement month for ${j._id} within 20 years of ${startMonth}`);
}

/** The first month from `month` on whose bucket for this journal is still open (where it would be counted). */
export async function openMonthFor(aggregates: Collection<MonthAggregate>, providerId: string, journalId: string, month: string): Promise<string> {
  const bucket = bucketOf(journalId);
  for (let i = 0; i < 240; i++) {
    const doc = await aggregates.findOne({ _id: aggregateId(providerId, month, bucket) }, { projection: { closed: 1 } });
    if (!doc?.closed) return month;
    month = nextMonth(month);
  }
  return month;
}

/** Sums bucket documents into per-provider totals. */
export function sumBuckets(docs: Iterable<Pick<MonthAggregate, 'providerId' | 'totals'>>): Map<string, StatementTotals> {
  const out = new Map<string, StatementTotals>();
  for (const d of docs) {
    let t = out.get(d.providerId);
    if (!t) out.set(d.providerId, (t = emptyTotals()));
    for (const k of SUMMED) t[k] += d.totals?.[k] ?? 0;
  }
  for (const t of out.values()) t.payableFen = t.subsidyFen + t.adjustmentSubsidyFen + t.caregiverSubsidyFen + t.operatingSubsidyFen;
  return out;
}

/** The projection that reads a bucket's totals without its (long) list of journal ids. */
export const TOTALS_PROJECTION = { providerId: 1, month: 1, totals: 1, closed: 1 } as const;

/** Every provider's running totals for a month (one index lookup on `month`), or one provider's (by `_id`). */
export async function monthTotals(aggregates: Collection<MonthAggregate>, month: string, providerId?: string): Promise<Map<string, StatementTotals>> {
  const filter: Document = providerId ? { _id: { $in: aggregateIdsOf(providerId, month) } } : { month };
  return sumBuckets(await aggregates.find(filter, { projection: TOTALS_PROJECTION }).toArray());
}

/**
 * Closes a provider's month (every bucket, created empty if missing), then returns the totals that
 * are now final: nothing can be added to a closed bucket.
 */
export async function closeMonth(aggregates: Collection<MonthAggregate>, providerId: string, month: string): Promise<StatementTotals> {
  const ops: AnyBulkWriteOperation<MonthAggregate>[] = aggregateIdsOf(providerId, month).map((_id, bucket) => ({
    updateOne: { filter: { _id }, update: { $set: { closed: true }, $setOnInsert: { providerId, month, bucket, applied: [], totals: emptyAggregate() } }, upsert: true },
  }));
  await aggregates.bulkWrite(ops, { ordered: true });
  return (await monthTotals(aggregates, month, providerId)).get(providerId) ?? emptyTotals();
}

export function emptyAggregate(): AggregateTotals {
  const out = {} as AggregateTotals;
  for (const k of SUMMED) out[k] = 0;
  return out;
}

/** The ids of the journals on a provider's statement for a month, in `_id` order. */
export async function statementJournalIds(aggregates: Collection<MonthAggregate>, providerId: string, month: string): Promise<string[]> {
  const docs = await aggregates.find({ _id: { $in: aggregateIdsOf(providerId, month) } }, { projection: { applied: 1 } }).toArray();
  return docs.flatMap((d) => d.applied ?? []).sort();
}

/**
 * Streams the statement's lines — exactly the journals its totals counted — fetched by `_id` in
 * chunks of 500 (each chunk one index lookup), in `_id` order.
 */
export async function* statementLines<T>(ledger: Collection<Document>, ids: readonly string[], projection: Document, chunk = 500): AsyncGenerator<T> {
  for (let i = 0; i < ids.length; i += chunk) {
    const part = ids.slice(i, i + chunk);
    const docs = await ledger.find({ _id: { $in: part } } as Document, { projection }).toArray();
    const byId = new Map(docs.map((d) => [String(d['_id']), d]));
    for (const id of part) {
      const d = byId.get(id);
      if (d) yield d as unknown as T;
    }
  }
}

/** The fields a statement line shows — lines, parts and the outbox stay on disk. */
export const LINE_PROJECTION = {
  kind: 1, providerId: 1, visitId: 1, orderId: 1, elderId: 1, caregiverId: 1, itemCode: 1, serviceDate: 1, serviceMonth: 1, startedAt: 1, endedAt: 1,
  settlementMonth: 1, quantity: 1, unitPriceFen: 1, grossFen: 1, subsidyFen: 1, copayFen: 1, heldFen: 1, amountFen: 1, policyCode: 1, postedAt: 1,
} as const;

/** Indexes the aggregates need: issuing reads a month (`month` equality is an index lookup). */
export async function ensureAggregateIndexes(aggregates: Collection<MonthAggregate>): Promise<void> {
  await aggregates.createIndex({ month: 1 });
  await aggregates.createIndex({ providerId: 1 });
}
