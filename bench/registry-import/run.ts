/**
 * Roster import benchmark: a bureau uploads a 400,000-row elder roster (CSV); how fast does it land,
 * and does memory stay flat? Two measurements in ONE run, against the same database:
 *
 *   baseline  the raw MongoDB driver: insertMany of equivalent plain documents (the same elders, no
 *             parsing, validation, encryption, outbox or events), batches of 1,000, into a scratch DB.
 *   import    end to end: the registry app booted in-process (Nest + Fastify, real Kafka + database),
 *             listening on a port; the CSV file streamed to POST /elders/import as multipart over HTTP;
 *             the request answers when every row is validated, upserted and its event is in the outbox.
 *
 * Reported: rows/s for both, the ratio import/baseline, total seconds vs the target (400k rows ≤ 120 s),
 * peak RSS sampled every 200 ms, and RSS at 10% vs 90% of rows (flat memory ⇒ similar). Results go to
 * bench/results/registry-import.json. A measurement, not a gate: exits 0 whatever the figures (1 only
 * if it could not run). Bounded: BENCH_TIMEOUT_MS (default 15 min) stops it hard.
 *
 * From the repo root (infra up):
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register bench/registry-import/run.ts
 * Env: BENCH_ROWS (400000)  BENCH_TARGET_SECONDS (120)  BENCH_TIMEOUT_MS (900000)  BENCH_KEEP_DB (unset: drop)
 *      BENCH_OUT (bench/results/registry-import.json)  MONGO_URL  KAFKA_BROKERS
 */
import 'reflect-metadata';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { buildRegions, elderRoster, rosterCsv } from '../../tools/demo-data/district';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
process.env['LOG_LEVEL'] ??= 'warn';

const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw.replace(/_/g, '')) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};
const ROWS = int('BENCH_ROWS', 400_000);
const TARGET_ROWS = 400_000;
const TARGET_SECONDS = int('BENCH_TARGET_SECONDS', 120);
const TIMEOUT_MS = int('BENCH_TIMEOUT_MS', 900_000);
const RUN_ID = randomBytes(4).toString('hex');
const OUT = resolve(process.env['BENCH_OUT'] ?? 'bench/results/registry-import.json');
const MONGO_URL = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/';
const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

const watchdog = setTimeout(() => {
  progress(`hard stop after ${TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_MS)`);
  process.exit(1);
}, TIMEOUT_MS);
watchdog.unref();

/** RSS sampled on a timer, plus samples taken when the import passes 10% and 90% of the rows. */
class RssSampler {
  peak = 0;
  samples: Array<{ tMs: number; rssMb: number; rows: number }> = [];
  private timer?: NodeJS.Timeout;
  private rows = 0;
  at: Record<string, number> = {};

  start(t0: number) {
    this.timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      this.peak = Math.max(this.peak, rss);
      if (this.samples.length < 5_000) this.samples.push({ tMs: Math.round(performance.now() - t0), rssMb: mb(rss), rows: this.rows });
    }, 200);
  }
  progress(rows: number) {
    this.rows = rows;
    for (const pct of [10, 50, 90]) {
      if (this.at[`p${pct}`] === undefined && rows >= (ROWS * pct) / 100) this.at[`p${pct}`] = mb(process.memoryUsage.rss());
    }
  }
  stop() {
    clearInterval(this.timer);
  }
}

async function generateCsv(dir: string): Promise<{ path: string; bytes: number; ms: number }> {
  const path = join(dir, 'roster.csv');
  const t0 = performance.now();
  const out = createWriteStream(path);
  for (const chunk of rosterCsv(ROWS)) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { path, bytes: statSync(path).size, ms: performance.now() - t0 };
}

/** Baseline: the same elders as plain documents, insertMany in batches of 1,000, nothing else. */
async function baseline(): Promise<{ rows: number; ms: number; rowsPerSec: number; db: string }> {
  const db = `bench_raw_${RUN_ID}`;
  const client = await MongoClient.connect(MONGO_URL);
  try {
    const collection = client.db(db).collection('elders');
    const t0 = performance.now();
    let batch: object[] = [];
    let rows = 0;
    for (const e of elderRoster(ROWS)) {
      batch.push({ ...e, categories: e.categoriesZh, guardians: e.guardian ? [e.guardian] : [], version: 1 });
      if (batch.length === 1_000) {
        await collection.insertMany(batch, { ordered: false });
        rows += batch.length;
        batch = [];
        if (rows % 50_000 === 0) progress(`baseline: ${rows} rows`);
      }
    }
    if (batch.length) {
      await collection.insertMany(batch, { ordered: false });
      rows += batch.length;
    }
    const ms = performance.now() - t0;
    return { rows, ms, rowsPerSec: Math.round(rows / (ms / 1000)), db };
  } finally {
    await client.db(db).dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/** Streams the file as a multipart body: preamble, the file piped from disk, epilogue. No buffering. */
function postFile(port: number, path: string, token: string): Promise<{ status: number; body: string }> {
  const boundary = `----yiyang-bench-${RUN_ID}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\nContent-Type: text/csv\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + statSync(path).size + tail.length;
  return new Promise((resolvePost, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/elders/import',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length, authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolvePost({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write(head);
    const file = createReadStream(path);
    file.pipe(req, { end: false });
    file.on('end', () => req.end(tail));
    file.on('error', reject);
  });
}

async function importEndToEnd(csvPath: string, sampler: RssSampler) {
  // The database is chosen by config at module-definition time, so set it before loading the app.
  process.env['MONGO_DB'] = `bench_registry_${RUN_ID}`;
  const { Module } = await import('@nestjs/common');
  const { getConnectionToken } = await import('@nestjs/mongoose');
  const { ServiceKitModule, mintInternalToken, createFastifyAdapter, configureServiceApp } = await import('@yiyang/service-kit');
  const { Test } = await import('@nestjs/testing');
  const { SERVICE } = await import('../../apps/registry/src/service');
  const { RegionsModule } = await import('../../apps/registry/src/regions/regions.module');
  const { RegionsService } = await import('../../apps/registry/src/regions/regions.service');
  const { EldersModule } = await import('../../apps/registry/src/elders/elders.module');
  const { RosterImportModule } = await import('../../apps/registry/src/roster-import/roster-import.module');
  const { TEST_INTERNAL_SECRET } = await import('@yiyang/service-kit/testing');
  type NestFastifyApplication = import('@nestjs/platform-fastify').NestFastifyApplication;

  @Module({ imports: [ServiceKitModule.forRoot(SERVICE), RegionsModule, EldersModule, RosterImportModule] })
  class BenchModule {}

  const moduleRef = await Test.createTestingModule({ imports: [BenchModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: ['warn', 'error'] });
  configureServiceApp(app, SERVICE);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const connection = app.get(getConnectionToken());
  try {
    const admin = { userId: 'bench-city-admin', role: 'civil_affairs_admin' as const, regionCode: '130200000000' };
    const regions = app.get(RegionsService);
    await regions.upsert(admin, { code: '130203000000', name: '路北区', centre: { lat: 39.6505, lng: 118.1805 } }, 'bench');
    for (const street of buildRegions()) {
      await regions.upsert(admin, { code: street.code, name: street.name, centre: street.centre }, 'bench');
      for (const c of street.communities) await regions.upsert(admin, { code: c.code, name: c.name, centre: c.centre }, 'bench');
    }
    progress(`import: app listening on ${port}, regions registered; uploading…`);

    // Progress comes from the run document the importer updates after every batch.
    const poll = setInterval(() => {
      void connection
        .collection('import_runs')
        .findOne({ status: 'RUNNING' }, { sort: { startedAt: -1 } })
        .then((run: { totalRows?: number } | null) => {
          if (run?.totalRows) sampler.progress(run.totalRows);
        })
        .catch(() => undefined);
    }, 250);
    const { messagingMetrics } = await import('@yiyang/messaging');
    const { RegistryTopics } = await import('@yiyang/contracts');
    const publishedSoFar = async () =>
      ((await messagingMetrics.published.get()).values.find((v) => v.labels['topic'] === RegistryTopics.elders.name)?.value ?? 0) as number;
    const publishedBefore = await publishedSoFar();
    const t0 = performance.now();
    const res = await postFile(port, csvPath, mintInternalToken(process.env['INTERNAL_TOKEN_SECRET'] ?? TEST_INTERNAL_SECRET, admin, 3_600));
    const ms = performance.now() - t0;
    clearInterval(poll);
    sampler.progress(ROWS);
    if (res.status !== 201) throw new Error(`import answered ${res.status}: ${res.body.slice(0, 500)}`);
    const report = JSON.parse(res.body) as { totalRows: number; created: number; updated: number; unchanged: number; failed: number; errors: unknown[] };
    const publishedAtAnswer = (await publishedSoFar()) - publishedBefore;
    progress(`import answered after ${(ms / 1000).toFixed(1)} s; ${publishedAtAnswer} events already published; waiting for the rest…`);
    // Reliably published = acknowledged by Kafka (acks=all). Done when nothing is left in either outbox:
    // no import batch document (elder_event_batches: prepared and not yet published and deleted), no
    // commit (elder_event_commits) and no elder marked outboxMark: 'pending' (an index lookup;
    // `outboxPending: true` would decode the whole collection on FerretDB).
    const expected = report.created + report.updated;
    let drainedMs = NaN;
    for (;;) {
      const [batches, commits, pendingElders, published] = await Promise.all([
        connection.collection('elder_event_batches').countDocuments({}),
        connection.collection('elder_event_commits').countDocuments({}),
        connection.collection('elders').countDocuments({ outboxMark: 'pending' }),
        publishedSoFar(),
      ]);
      if (batches === 0 && commits === 0 && pendingElders === 0 && published - publishedBefore >= expected) {
        drainedMs = performance.now() - t0;
        break;
      }
      if (performance.now() - t0 > TIMEOUT_MS - 30_000) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const published = (await publishedSoFar()) - publishedBefore;
    const runDoc = (await connection.collection('import_runs').findOne({ _id: (report as { importId?: string }).importId } as never)) as { timings?: Record<string, number> } | null;
    const { ImportEventBatches } = await import('../../apps/registry/src/elders/import-events');
    const relayTimings = Object.fromEntries(Object.entries(app.get(ImportEventBatches).timings).map(([k, v]) => [k, Math.round(v)]));
    return { ms, report, timings: runDoc?.timings ?? null, relayTimings, rowsPerSec: Math.round(report.totalRows / (ms / 1000)), db: process.env['MONGO_DB'], events: { expected, published, publishedAtAnswer, allPublishedSeconds: Math.round(drainedMs) / 1000 } };
  } finally {
    if (!process.env['BENCH_KEEP_DB']) await connection.dropDatabase().catch(() => undefined);
    await app.close();
  }
}

async function main() {
  progress(`registry import bench ${RUN_ID}: rows=${ROWS}, target ${TARGET_ROWS} rows ≤ ${TARGET_SECONDS} s, ${process.version}, ${cpus().length} CPUs`);
  const dir = mkdtempSync(join(tmpdir(), 'yiyang-roster-'));
  try {
    const csv = await generateCsv(dir);
    progress(`generated ${csv.path}: ${mb(csv.bytes)} MB in ${(csv.ms / 1000).toFixed(1)} s`);

    const base = await baseline();
    progress(`baseline (raw insertMany): ${base.rows} rows in ${(base.ms / 1000).toFixed(1)} s = ${base.rowsPerSec} rows/s`);

    const sampler = new RssSampler();
    const rssBefore = process.memoryUsage.rss();
    sampler.start(performance.now());
    const imp = await importEndToEnd(csv.path, sampler);
    sampler.stop();
    progress(`import (HTTP end to end): ${imp.report.totalRows} rows in ${(imp.ms / 1000).toFixed(1)} s = ${imp.rowsPerSec} rows/s`);

    const seconds = imp.ms / 1000;
    // Extrapolate linearly to 400k when run with fewer rows (the import is batch-by-batch, so time ∝ rows
    // as long as the database's per-batch cost does not grow with its size — say so in the report).
    const projected400k = (seconds * TARGET_ROWS) / imp.report.totalRows;
    const timeMet = projected400k <= TARGET_SECONDS;
    const rss10 = sampler.at['p10'] ?? null;
    const rss90 = sampler.at['p90'] ?? null;
    // Memory verdict: the median RSS over the second quarter of the rows vs the median over the last
    // quarter (every 200 ms sample taken while the import was in that range). Medians ignore single
    // troughs and GC peaks; a leak grows with the rows, so it shows as a last-quarter median above the
    // second-quarter one by more than the tolerance: max(64 MB, 20 %).
    const median = (xs: number[]) => {
      if (xs.length === 0) return null;
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.floor(s.length / 2)];
    };
    const inRange = (from: number, to: number) => sampler.samples.filter((x) => x.rows >= ROWS * from && x.rows < ROWS * to).map((x) => x.rssMb);
    const q2Median = median(inRange(0.25, 0.5));
    const q4Median = median(inRange(0.75, 1.01));
    const toleranceMb = q2Median === null ? null : Math.round(Math.max(64, q2Median * 0.2));
    const flat = q2Median !== null && q4Median !== null && toleranceMb !== null ? q4Median - q2Median <= toleranceMb : null;
    const ratio = Math.round((imp.rowsPerSec / base.rowsPerSec) * 1000) / 1000;

    const result = {
      benchmark: 'registry-roster-import',
      runId: RUN_ID,
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      database: MONGO_URL.replace(/\/\/[^@]*@/, '//'),
      rows: ROWS,
      csvMb: mb(csv.bytes),
      baseline: { description: 'raw MongoDB driver insertMany of plain documents, batches of 1,000, scratch DB', rows: base.rows, seconds: Math.round(base.ms) / 1000, rowsPerSec: base.rowsPerSec },
      import: {
        description: 'POST /elders/import (multipart over HTTP, streamed CSV) → parse → validate → EldersService.upsertMany (encrypt, hash; cold profile fields stored packed; events in one outbox batch document per 1,000 rows, published from memory once the elders are stored; one audit entry per batch)',
        seconds: Math.round(imp.ms) / 1000,
        rowsPerSec: imp.rowsPerSec,
        timingsMs: imp.timings,
        relayTimingsMs: imp.relayTimings,
        report: { totalRows: imp.report.totalRows, created: imp.report.created, updated: imp.report.updated, unchanged: imp.report.unchanged, failed: imp.report.failed, firstErrors: imp.report.errors.slice(0, 5) },
      },
      events: {
        description: 'ElderRegistered/ElderUpdated acknowledged by Kafka (acks=all), counted from the publisher; allPublishedSeconds = from upload start until both outboxes are empty (no batch document, no commit, no elder marked pending)',
        ...imp.events,
      },
      ratioImportToBaseline: ratio,
      target: { rows: TARGET_ROWS, seconds: TARGET_SECONDS, projectedSecondsFor400k: Math.round(projected400k * 10) / 10, extrapolated: ROWS !== TARGET_ROWS, met: timeMet },
      memory: { rssBeforeImportMb: mb(rssBefore), peakRssMb: mb(sampler.peak), rssAt10PctMb: rss10, rssAt50PctMb: sampler.at['p50'] ?? null, rssAt90PctMb: rss90, secondQuarterMedianRssMb: q2Median, lastQuarterMedianRssMb: q4Median, toleranceMb, verdict: 'flat when median RSS of the last quarter of rows ≤ median of the second quarter + max(64 MB, 20 %)', flat, samples: sampler.samples.filter((_, i) => i % 5 === 0) },
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);

    console.log('');
    console.log(`Roster import, ${ROWS} rows (${mb(csv.bytes)} MB CSV), ${process.version}, ${cpus().length} CPUs, database ${result.database}`);
    console.log(`  baseline raw insertMany : ${String(base.rowsPerSec).padStart(8)} rows/s  (${(base.ms / 1000).toFixed(1)} s)`);
    console.log(`  import end to end       : ${String(imp.rowsPerSec).padStart(8)} rows/s  (${seconds.toFixed(1)} s)  ratio ${ratio}`);
    console.log(
      `  time target 400k ≤ ${TARGET_SECONDS} s : ${ROWS === TARGET_ROWS ? `${seconds.toFixed(1)} s` : `projected ${projected400k.toFixed(1)} s (extrapolated from ${ROWS})`} — ${timeMet ? 'MET' : 'NOT MET'}`,
    );
    console.log(`  events: ${imp.events.published}/${imp.events.expected} published; all published ${imp.events.allPublishedSeconds} s after the upload started (${imp.events.publishedAtAnswer} by the time the import answered)`);
    console.log(
      `  memory: peak RSS ${mb(sampler.peak)} MB; median RSS 25–50% of rows ${q2Median} MB vs 75–100% ${q4Median} MB (tolerance ${toleranceMb} MB) — ${flat === null ? 'n/a' : flat ? 'FLAT' : 'GROWING'}`,
    );
    console.log(`  import steps (ms, summed): ${JSON.stringify(imp.timings)}`);
    console.log(`  relay steps (ms, summed): ${JSON.stringify(imp.relayTimings)}`);
    console.log(`results: ${OUT}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
