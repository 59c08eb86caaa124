/**
 * Settlement benchmark: one month with 1,000,000 verified, charged visits; how long does issuing
 * every provider's statement take? Two measurements in ONE run, against the same documents:
 *
 *   baseline    the raw MongoDB driver reading the same ledger documents with the same filter,
 *               projection, `_id` order and batch size that settlement uses — and doing nothing with them.
 *   settlement  billing's settlement engine (apps/billing/src/settlements/engine.ts — the code
 *               POST /settlements runs): one streaming pass that places every journal on its statement
 *               (late-posting rule), totals each provider's month in integer fen, then writes the
 *               statements.
 *
 * The ledger is generated first (setup, timed and reported separately): journals shaped exactly as
 * PostingsService writes them (lines, parts, fund shares, a few reversals and held shares), spread
 * over providers and elders like the demo district. The engine's totals are checked against the
 * generator's own sums, so a fast wrong answer cannot pass. Results: bench/results/settlement.json.
 * A measurement, not a gate.
 *
 * From the repo root (infra up):
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register bench/settlement/run.ts
 * Env: BENCH_VISITS (1000000)  BENCH_PROVIDERS (51)  BENCH_ELDERS (20000)  BENCH_TARGET_SECONDS (60)
 *      BENCH_KEEP_DB (unset: drop)  BENCH_OUT (bench/results/settlement.json)  MONGO_URL
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import { computeStatements, SETTLEMENT_PROJECTION } from '../../apps/billing/src/settlements/engine';
import type { StatementTotals } from '../../apps/billing/src/settlements/domain/statement';

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
  const result: Record<string, unknown> = {
    benchmark: 'billing-settlement', runId: RUN_ID, date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length, cpuModel: cpus()[0]?.model, database: MONGO_URL, visits: VISITS, providers: PROVIDERS, month: MONTH,
    note: 'Shared 2-core machine: other helpers were running tests, builds and benchmarks at the same time; figures are what this run saw.',
  };
  try {
    // ── setup: the month's ledger ──
    const expected = new Map<string, Expected>();
    const rnd = mulberry32(20260201);
    const t0 = performance.now();
    const BATCH = 2_000;
    for (let i = 0; i < VISITS; i += BATCH) {
      const docs: Document[] = [];
      for (let k = i; k < Math.min(i + BATCH, VISITS); k++) docs.push(journal(k, rnd, expected));
      await ledger.insertMany(docs, { ordered: false });
      if ((i / BATCH) % 50 === 0) progress(`loaded ${i + docs.length} / ${VISITS}`);
    }
    const loadMs = performance.now() - t0;
    result['setup'] = { description: 'insertMany of generated journals, batches of 2,000 (not part of either measurement)', seconds: secs(loadMs), docsPerSec: Math.round(VISITS / (loadMs / 1000)) };
    progress(`ledger loaded in ${secs(loadMs)} s`);

    // ── baseline: the raw driver's read of the same documents ──
    const filter = { kind: { $in: ['CHARGE', 'REVERSAL'] }, settlementMonth: { $lte: MONTH } };
    const rawRead = async () => {
      const t = performance.now();
      let n = 0;
      for await (const doc of ledger.find(filter, { projection: SETTLEMENT_PROJECTION, batchSize: 10_000 }).sort({ _id: 1 })) if (doc) n++;
      return { docs: n, ms: performance.now() - t };
    };
    const base1 = await rawRead();
    progress(`baseline read ${base1.docs} docs in ${secs(base1.ms)} s`);

    // ── settlement: the engine, then the statements written ──
    const t1 = performance.now();
    const totals = await computeStatements(ledger, MONTH, new Map());
    const computedMs = performance.now() - t1;
    const statements = db.collection('statements');
    await statements.bulkWrite(
      [...totals].map(([providerId, t]) => ({
        updateOne: { filter: { _id: `stmt:${providerId}:${MONTH}` as never }, update: { $set: { providerId, month: MONTH, status: 'DRAFT', totals: t, issuedAt: new Date() } }, upsert: true },
      })),
    );
    const settleMs = performance.now() - t1;
    progress(`settled ${totals.size} statements in ${secs(settleMs)} s`);
    const base2 = await rawRead();
    progress(`baseline read again ${base2.docs} docs in ${secs(base2.ms)} s`);

    // ── correctness: the engine's totals equal the generator's sums ──
    const mismatches: string[] = [];
    for (const [providerId, e] of expected) {
      const t = totals.get(providerId) as StatementTotals | undefined;
      const ok = t && t.lineCount === e.lines && t.grossFen === e.grossFen && t.subsidyFen === e.subsidyFen && t.copayFen === e.copayFen && t.adjustmentSubsidyFen === e.adjustmentSubsidyFen && t.heldFen === e.heldFen;
      if (!ok) mismatches.push(providerId);
    }
    const baselineMs = (base1.ms + base2.ms) / 2;
    const lineCount = [...totals.values()].reduce((s, t) => s + t.lineCount, 0);
    Object.assign(result, {
      baseline: {
        description: 'raw MongoDB driver: the same filter, projection, _id order and batch size; documents only counted',
        runs: [{ seconds: secs(base1.ms), docs: base1.docs }, { seconds: secs(base2.ms), docs: base2.docs }],
        meanSeconds: secs(baselineMs),
        docsPerSec: Math.round(base1.docs / (baselineMs / 1000)),
      },
      settlement: {
        description: 'computeStatements (one streaming pass, statement placement + integer totals per provider) + bulk write of the statements',
        seconds: secs(settleMs),
        computeSeconds: secs(computedMs),
        statements: totals.size,
        lines: lineCount,
        linesPerSec: Math.round(lineCount / (settleMs / 1000)),
        payableFen: [...totals.values()].reduce((s, t) => s + t.payableFen, 0),
      },
      ratioSettlementToBaseline: Math.round((settleMs / baselineMs) * 100) / 100,
      correct: mismatches.length === 0,
      mismatchedProviders: mismatches.slice(0, 5),
      target: { visits: 1_000_000, seconds: TARGET_SECONDS, met: VISITS >= 1_000_000 ? settleMs / 1000 <= TARGET_SECONDS : null, projectedSecondsFor1M: secs((settleMs * 1_000_000) / VISITS), extrapolated: VISITS < 1_000_000 },
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
