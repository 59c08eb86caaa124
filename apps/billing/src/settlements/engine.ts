import type { Collection, Document } from 'mongodb';
import { addLine, emptyTotals, statementMonthOf, type Approvals, type SettlementJournal, type StatementTotals } from './domain/statement';

/** The fields settlement needs — lines, parts and the outbox stay on disk. */
export const SETTLEMENT_PROJECTION = {
  kind: 1, providerId: 1, visitId: 1, orderId: 1, elderId: 1, caregiverId: 1, itemCode: 1, serviceDate: 1, serviceMonth: 1, startedAt: 1, endedAt: 1,
  settlementMonth: 1, quantity: 1, unitPriceFen: 1, grossFen: 1, subsidyFen: 1, copayFen: 1, heldFen: 1, postedAt: 1,
} as const;

/**
 * One streaming pass over the ledger computes every provider's statement for a month. FerretDB
 * scans the whole collection for any filtered read (ADR 0001), so one pass for all providers costs
 * the same as one for a single provider; the filter keeps only charges and reversals posted for
 * this month or earlier, and the cursor is read in large batches in `_id` order.
 */
export async function computeStatements(
  ledger: Collection<Document>,
  month: string,
  approvals: Map<string, Approvals>,
  options: { providerId?: string; onLine?: (j: SettlementJournal) => void | Promise<void>; batchSize?: number } = {},
): Promise<Map<string, StatementTotals>> {
  const totals = new Map<string, StatementTotals>();
  const filter: Document = { kind: { $in: ['CHARGE', 'REVERSAL'] }, settlementMonth: { $lte: month } };
  if (options.providerId) filter['providerId'] = options.providerId;
  const cursor = ledger.find(filter, { projection: SETTLEMENT_PROJECTION, batchSize: options.batchSize ?? 10_000 }).sort({ _id: 1 });
  for await (const doc of cursor) {
    const j = doc as unknown as SettlementJournal;
    if (!j.providerId || statementMonthOf(j, approvals.get(j.providerId)) !== month) continue;
    let t = totals.get(j.providerId);
    if (!t) totals.set(j.providerId, (t = emptyTotals()));
    addLine(t, j, month);
    if (options.onLine) await options.onLine(j);
  }
  return totals;
}
