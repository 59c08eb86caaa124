/**
 * Settlement benchmark: one month with 1,000,000 verified, charged visits; how long does issuing
 * every provider's statement take? Measured in ONE run, against the same documents:
 *
 *   settlement  what POST /settlements runs (apps/billing/src/settlements/aggregates.ts): read the
 *               month's running per-provider totals (bucket documents maintained as charges post —
 *               ADR 0008) by one index lookup on `month`, sum them per provider, bulk-write the
 *               statements.
 *   baseline    the raw MongoDB driver reading the same bucket documents with the same filter and
 *               projection, doing nothing with them.
 *   context     the raw driver scanning the month's 1,000,000 ledger documents (what settlement used
 *               to read), time-capped and projected; and one provider's statement lines (export) read
 *               by `_id` from the aggregate's journal list vs the raw driver's `_id $in` read of them.
 *
 * Setup (timed, not compared): the ledger's journals, shaped as PostingsService writes them, are
 * inserted with insertMany; their running totals are built with the SAME per-journal function the
 * postings use (`lineDelta`, `bucketOf`). The last BENCH_LIVE journals are instead counted live
 * through `applyToAggregates` (the exact call PostingsService makes after each charge), a slice of
 * them twice (redelivery must not double-count), and after settling, one provider's month is
 * approved (closed) and a late charge for it must land on the next month. The engine's totals are
 * checked against the generator's own sums, so a fast wrong answer cannot pass. Results:
 * bench/results/settlement.json. A measurement, not a gate.
 *
 * From the repo root (infra up):
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register bench/settlement/run.ts
 * Env: BENCH_VISITS (1000000)  BENCH_PROVIDERS (51)  BENCH_ELDERS (20000)  BENCH_TARGET_SECONDS (60)
 *      BENCH_LIVE (2000)  BENCH_SCAN_SECONDS (120: cap on the context ledger scan)
 *      BENCH_KEEP_DB (unset: drop)  BENCH_OUT (bench/results/settlement.json)  MONGO_URL
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Collection, type Document } from 'mongodb';
import {
  aggregateId, applyToAggregates, bucketOf, closeMonth, emptyAggregate, ensureAggregateIndexes, LINE_PROJECTION, lineDelta, monthTotals, statementJournalIds, statementLines,
  TOTALS_PROJECTION, type AggregateTotals, type MonthAggregate,
} from '../../apps/billing/src/settlements/aggregates';
import type { SettlementJournal, StatementTotals } from '../../apps/billing/src/settlements/domain/statement';
import { nextMonth } from '../../apps/billing/src/shared/dates';

const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw.replace(/_/g, '')) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};
const VISITS = int('BENCH_VISITS', 1_000_000);
const PROVIDERS = int('BENCH_PROVIDERS', 51);
const ELDERS = int('BENCH_ELDERS', 20_000);
const TARGET_SECONDS = int('BENCH_TARGET_SECONDS', 60);
const LIVE = Math.min(int('BENCH_LIVE', 2_000), VISITS);
const SCAN_SECONDS = int('BENCH_SCAN_SECONDS', 120);
const MONTH = '2026-02';
const RUN_ID = randomBytes(4).toString('hex');
const OUT = resolve(process.env['BENCH_OUT'] ?? 'bench/results/settlement.json');
const MONGO_URL = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/';
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
const secs = (ms: number) => Math.round(ms) / 1000;

/** A deterministic PRNG so every run settles the same ledger. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Expected {
  lines: number;
  grossFen: number;
  subsidyFen: number;
  copayFen: number;
  adjustmentSubsidyFen: number;
  heldFen: number;
}

function journal(i: number, rnd: () => number, expected: Map<string, Expected>): Document {
  const providerId = `prov-${String(i % PROVIDERS).padStart(3, '0')}`;
  const elderId = `eld-${String(Math.floor(rnd() * ELDERS)).padStart(6, '0')}`;
  const day = 1 + (i % 28);
  const serviceDate = `${MONTH}-${String(day).padStart(2, '0')}`;
  const unitPriceFen = [1_500, 4_000, 6_000, 8_000][i % 4];
  const quantity = i % 4 === 0 ? 1 : [1, 1.5, 2][i % 3];
  const gross = Math.round(unitPriceFen * quantity);
  const subsidy = i % 3 === 0 ? gross : Math.round(gross * 0.7);
  const held = i % 97 === 0 ? subsidy : 0;
  const copay = gross - subsidy;
  const reversal = i % 211 === 0;
  const e = expected.get(providerId) ?? { lines: 0, grossFen: 0, subsidyFen: 0, copayFen: 0, adjustmentSubsidyFen: 0, heldFen: 0 };
  e.lines++;
  if (reversal) {
    e.adjustmentSubsidyFen -= subsidy - held;
    e.heldFen -= held;
  } else {
    e.grossFen += gross;
    e.subsidyFen += subsidy - held;
    e.copayFen += copay;
    e.heldFen += held;
  }
  expected.set(providerId, e);
  const visitId = `vis-${RUN_ID}-${String(i).padStart(8, '0')}`;
  const accountId = `acct:${elderId}:CC-HOME-200`;
  const lines = [
    { account: `benefit:${accountId}`, debitFen: subsidy, creditFen: 0 },
    ...(copay ? [{ account: `copay:${elderId}`, debitFen: copay, creditFen: 0 }] : []),
    { account: `provider:${providerId}`, debitFen: 0, creditFen: gross - held },
    ...(held ? [{ account: 'held:bud:COUNTY:2026:130203000000', debitFen: 0, creditFen: held }] : []),
  ];
  const startedAt = new Date(Date.parse(`${serviceDate}T08:00:00+08:00`) + (i % 600) * 60_000).toISOString();
  return {
    _id: `${reversal ? 'rev' : 'chg'}:${visitId}`,
    kind: reversal ? 'REVERSAL' : 'CHARGE',
    sourceEventId: `01a2${randomBytes(14).toString('hex')}`,
    elderId,
    regionCode: '130203001001',
    regionPath: ['130000000000', '130200000000', '130203000000', '130203001000', '130203001001'],
    accountIds: [accountId],
    lines: reversal ? lines.map((l) => ({ account: l.account, debitFen: l.creditFen, creditFen: l.debitFen })) : lines,
    postedAt: new Date(Date.parse(startedAt) + 3 * 3_600_000),
    visitId, orderId: `ord-${RUN_ID}-${i}`, providerId, caregiverId: `cg-${i % 600}`, itemCode: ['MEAL-LUNCH', 'CLEAN-1H', 'BATH-ASSIST', 'REHAB-1H'][i % 4],
    category: ['MEALS', 'CLEANING', 'BATHING', 'REHABILITATION'][i % 4], serviceDate, serviceMonth: MONTH, startedAt,
    endedAt: new Date(Date.parse(startedAt) + 3_600_000).toISOString(), settlementMonth: MONTH, quantity, unitPriceFen,
    grossFen: gross, subsidyFen: subsidy, copayFen: copay, heldFen: held,
    parts: [{ policyId: 'CC-HOME-200@1', policyCode: 'CC-HOME-200', kind: 'MONTHLY_ALLOWANCE', accountId, balanceId: `bal:${accountId}:${MONTH}`, fundSource: 'COUNTY', budgetId: 'bud:COUNTY:2026:130203000000', amountFen: subsidy, held: held > 0 }],
    outbox: [],
    outboxPending: false,
  };
}

async function main() {
  const client = await MongoClient.connect(MONGO_URL, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 4 });
  const dbName = `bench_settlement_${RUN_ID}`;
  const db = client.db(dbName);
  const ledger = db.collection('ledger');
  const aggregates = db.collection('settlement_aggregates') as unknown as Collection<MonthAggregate>;
  const result: Record<string, unknown> = {
    benchmark: 'billing-settlement', runId: RUN_ID, date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length, cpuModel: cpus()[0]?.model, database: MONGO_URL, visits: VISITS, providers: PROVIDERS, month: MONTH,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    note: 'Shared 2-core machine: other helpers were running tests, builds and benchmarks at the same time; figures are what this run saw.',
  };
  try {
    // ── setup: the month's ledger and its running totals ──
    await ensureAggregateIndexes(aggregates);
    const expected = new Map<string, Expected>();
    const rnd = mulberry32(20260201);
    const buckets = new Map<string, { providerId: string; bucket: number; applied: string[]; totals: AggregateTotals }>();
    const live: Document[] = [];
    const t0 = performance.now();
    const BATCH = 1_000;
    for (let i = 0; i < VISITS; i += BATCH) {
      const docs: Document[] = [];
      for (let k = i; k < Math.min(i + BATCH, VISITS); k++) {
        const doc = journal(k, rnd, expected);
        docs.push(doc);
        if (k >= VISITS - LIVE) {
          live.push(doc);
          continue;
        }
        // What applyToAggregates would have added for this journal, built in memory for the load.
        const j = doc as unknown as SettlementJournal & { providerId: string };
        const id = aggregateId(j.providerId, MONTH, bucketOf(j._id));
        let b = buckets.get(id);
        if (!b) buckets.set(id, (b = { providerId: j.providerId, bucket: bucketOf(j._id), applied: [], totals: emptyAggregate() }));
        const d = lineDelta(j, MONTH);
        for (const key of Object.keys(d) as (keyof AggregateTotals)[]) b.totals[key] += d[key];
        b.applied.push(j._id);
      }
      await ledger.insertMany(docs, { ordered: false });
      if ((i / BATCH) % 100 === 0) progress(`loaded ${i + docs.length} / ${VISITS} (${Math.round((i + docs.length) / ((performance.now() - t0) / 1000))} docs/s)`);
    }
    const loadMs = performance.now() - t0;
    const t0b = performance.now();
    const aggDocs = [...buckets].map(([_id, b]) => ({ _id, providerId: b.providerId, month: MONTH, bucket: b.bucket, closed: false, applied: b.applied, totals: b.totals }));
    for (let i = 0; i < aggDocs.length; i += 100) await aggregates.insertMany(aggDocs.slice(i, i + 100));
    const aggLoadMs = performance.now() - t0b;
    result['setup'] = {
      description: 'insertMany of generated journals (batches of 1,000) and of their running-total buckets; not part of any measurement',
      ledgerSeconds: secs(loadMs), ledgerDocsPerSec: Math.round(VISITS / (loadMs / 1000)), aggregateDocs: aggDocs.length, aggregateSeconds: secs(aggLoadMs),
    };
    progress(`ledger loaded in ${secs(loadMs)} s, ${aggDocs.length} aggregate buckets in ${secs(aggLoadMs)} s`);

    // ── posting path: the last journals counted live, a slice of them twice ──
    const tl = performance.now();
    for (const doc of live) await applyToAggregates(aggregates, doc as never, MONTH);
    const liveMs = performance.now() - tl;
    const redelivered = live.filter((_, k) => k % 4 === 0);
    const tr = performance.now();
    for (const doc of redelivered) await applyToAggregates(aggregates, doc as never, MONTH);
    const redeliverMs = performance.now() - tr;
    result['posting'] = {
      description: 'applyToAggregates — the one conditional update PostingsService makes per charge — for journals not pre-aggregated; then a quarter of them again (redelivery: must add nothing)',
      charges: live.length, seconds: secs(liveMs), msPerCharge: Math.round((liveMs / Math.max(1, live.length)) * 100) / 100,
      redelivered: redelivered.length, redeliverSeconds: secs(redeliverMs),
    };
    progress(`counted ${live.length} charges live in ${secs(liveMs)} s; ${redelivered.length} redelivered in ${secs(redeliverMs)} s`);

    // ── baseline: the raw driver's read of the same documents settlement reads ──
    const rawRead = async () => {
      const t = performance.now();
      let n = 0;
      for await (const doc of aggregates.find({ month: MONTH }, { projection: TOTALS_PROJECTION })) if (doc) n++;
      return { docs: n, ms: performance.now() - t };
    };
    const statements = db.collection('statements');
    const settle = async () => {
      const t = performance.now();
      const totals = await monthTotals(aggregates, MONTH);
      const computeMs = performance.now() - t;
      await statements.bulkWrite(
        [...totals].map(([providerId, tt]) => ({
          updateOne: { filter: { _id: `stmt:${providerId}:${MONTH}` as never }, update: { $set: { providerId, month: MONTH, status: 'DRAFT', totals: tt, issuedAt: new Date() } }, upsert: true },
        })),
      );
      return { totals, computeMs, ms: performance.now() - t };
    };
    const base1 = await rawRead();
    progress(`baseline: raw read of ${base1.docs} aggregate docs in ${secs(base1.ms)} s`);
    const runs = [await settle(), await settle(), await settle()];
    progress(`settled ${runs[0].totals.size} statements in ${runs.map((r) => secs(r.ms)).join(' / ')} s`);
    const base2 = await rawRead();
    progress(`baseline again: ${base2.docs} docs in ${secs(base2.ms)} s`);
    const totals = runs[0].totals;

    // ── correctness: the totals equal the generator's sums (every visit once, redeliveries ignored) ──
    const mismatches: string[] = [];
    for (const [providerId, e] of expected) {
      const t = totals.get(providerId) as StatementTotals | undefined;
      const ok = t && t.lineCount === e.lines && t.grossFen === e.grossFen && t.subsidyFen === e.subsidyFen && t.copayFen === e.copayFen && t.adjustmentSubsidyFen === e.adjustmentSubsidyFen && t.heldFen === e.heldFen;
      if (!ok) mismatches.push(providerId);
    }
    const linesCounted = [...totals.values()].reduce((s, t) => s + t.lineCount, 0);

    // ── context 1: one provider's statement lines (export) vs the raw driver's read of them ──
    const provider = 'prov-000';
    const tx = performance.now();
    const ids = await statementJournalIds(aggregates, provider, MONTH);
    let exported = 0;
    let exportedGross = 0;
    for await (const j of statementLines<SettlementJournal>(ledger, ids, LINE_PROJECTION)) {
      exported++;
      if (j.kind === 'CHARGE') exportedGross += j.grossFen ?? 0;
    }
    const exportMs = performance.now() - tx;
    const ty = performance.now();
    let rawLines = 0;
    for (let i = 0; i < ids.length; i += 500) rawLines += (await ledger.find({ _id: { $in: ids.slice(i, i + 500) } } as Document, { projection: LINE_PROJECTION }).toArray()).length;
    const rawLinesMs = performance.now() - ty;
    progress(`export of ${provider}: ${exported} lines in ${secs(exportMs)} s (raw _id $in read ${secs(rawLinesMs)} s)`);

    // ── context 2: the raw driver scanning the month's ledger (what settlement used to read), capped ──
    const ts = performance.now();
    let scanned = 0;
    let complete = true;
    for await (const doc of ledger.find({ kind: { $in: ['CHARGE', 'REVERSAL'] }, settlementMonth: { $lte: MONTH } }, { projection: LINE_PROJECTION, batchSize: 10_000 })) {
      if (doc) scanned++;
      if (performance.now() - ts > SCAN_SECONDS * 1000) {
        complete = false;
        break;
      }
    }
    const scanMs = performance.now() - ts;
    progress(`ledger scan: ${scanned} docs in ${secs(scanMs)} s${complete ? '' : ' (capped)'}`);

    // ── the late-event rule on the running totals: approve (close) one provider's month, post late ──
    const before = totals.get(provider)!;
    const closed = await closeMonth(aggregates, provider, MONTH);
    const lateDoc: Document = { ...live[0], _id: `chg:vis-${RUN_ID}-late`, visitId: `vis-${RUN_ID}-late`, providerId: provider, postedAt: new Date() };
    await ledger.insertOne(lateDoc as never);
    const lateMonth = await applyToAggregates(aggregates, lateDoc as never, MONTH);
    const again = await applyToAggregates(aggregates, lateDoc as never, MONTH);
    const after = (await monthTotals(aggregates, MONTH, provider)).get(provider)!;
    const next = (await monthTotals(aggregates, nextMonth(MONTH), provider)).get(provider);
    const lateOk =
      closed.lineCount === before.lineCount && after.lineCount === before.lineCount && lateMonth === nextMonth(MONTH) && again === lateMonth &&
      next?.lineCount === 1 && next.adjustmentSubsidyFen === (lateDoc['subsidyFen'] as number) - (lateDoc['heldFen'] as number);

    const settleMs = Math.min(...runs.map((r) => r.ms));
    const baselineMs = (base1.ms + base2.ms) / 2;
    Object.assign(result, {
      baseline: {
        description: 'raw MongoDB driver reading the same aggregate documents (same filter {month}, same projection); documents only counted',
        runs: [{ seconds: secs(base1.ms), docs: base1.docs }, { seconds: secs(base2.ms), docs: base2.docs }],
        meanSeconds: secs(baselineMs),
      },
      settlement: {
        description: 'monthTotals (index lookup on month, sum per provider) + bulk write of the statements, as POST /settlements; three runs, best reported',
        runsSeconds: runs.map((r) => secs(r.ms)),
        computeSeconds: runs.map((r) => secs(r.computeMs)),
        seconds: secs(settleMs),
        statements: totals.size,
        visitsSettled: linesCounted,
        payableFen: [...totals.values()].reduce((s, t) => s + t.payableFen, 0),
      },
      ratioSettlementToBaseline: Math.round((settleMs / baselineMs) * 100) / 100,
      correct: mismatches.length === 0,
      mismatchedProviders: mismatches.slice(0, 5),
      lateEventRule: { ok: lateOk, closedMonthLinesUnchanged: after.lineCount === before.lineCount, lateChargeCountedOn: lateMonth, redeliveredLateCountedOn: again },
      exportOneProvider: {
        description: `statement lines of ${provider}: journal ids from its aggregate buckets, journals read by _id in chunks of 500 — vs the raw driver's _id $in read of the same documents`,
        lines: exported, linesMatchTotals: exported === before.lineCount, seconds: secs(exportMs), rawSeconds: secs(rawLinesMs), rawDocs: rawLines,
        grossFen: exportedGross,
      },
      ledgerScanContext: {
        description: 'raw driver scan of the month ledger with the filter the old one-pass settlement used (a range: full scan on FerretDB v1); capped at BENCH_SCAN_SECONDS',
        docs: scanned, seconds: secs(scanMs), complete, docsPerSec: Math.round(scanned / (scanMs / 1000)), projectedSecondsForAll: secs((scanMs * VISITS) / Math.max(1, scanned)),
      },
      target: { visits: 1_000_000, seconds: TARGET_SECONDS, met: VISITS >= 1_000_000 ? settleMs / 1000 <= TARGET_SECONDS && mismatches.length === 0 : null },
      loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    });
  } finally {
    if (!process.env['BENCH_KEEP_DB']) await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  progress(`wrote ${OUT}`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    progress(`bench failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
