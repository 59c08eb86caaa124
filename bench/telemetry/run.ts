/**
 * Telemetry benchmark: vendor deliveries → ingestion (HTTP) → telemetry topic → rule engine →
 * alert event, measured beside a bare kafkajs consumer of the same topic in the same run.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register bench/telemetry/run.ts
 *
 * One process, on purpose (the machine has 2 cores; a second process would only move the contention):
 *   - the monitoring app booted in-process (Nest + Fastify on a port, real Kafka + database), with
 *     BENCH_DEVICES devices written straight into its database;
 *   - a load generator posting batches of realistic readings (tools/device-simulator/model.ts) to
 *     POST /telemetry over HTTP with a vendor key;
 *   - the BASELINE: a bare kafkajs consumer (eachBatch, JSON.parse of every record) of the same
 *     telemetry topic, started at its current end, counting readings.
 *
 * Phase 1 (throughput, BENCH_SECONDS): the generator sends as fast as it can; afterwards both
 * consumers drain. Reported: accepted readings/s at ingestion; readings/s evaluated by the rule
 * engine and by the bare consumer over the same window (first record seen → last record handled);
 * the ratio engine / bare.
 * Phase 2 (latency + memory, BENCH_SECONDS): the generator holds half the target rate (50,000/s ⇒
 * 25,000/s, or half of what phase 1 sustained if that was lower) and presses an SOS on a fresh
 * device BENCH_SOS_PER_SEC times a second; latency = AlertRaised seen on the alerts topic − the moment the reading
 * was posted (BENCH_SOS_PER_SEC, default 2). RSS is sampled every second; flat memory ⇒ RSS at 90 % of the phase ≈ RSS at 10 %.
 *
 * Env: BENCH_DEVICES (20000)  BENCH_SECONDS (60; 600 for the 10-minute run)  BENCH_BATCH (1000)
 *      BENCH_CONCURRENCY (4 requests in flight)  BENCH_TARGET_RATE (50000)  BENCH_OUT  MONGO_URL  KAFKA_BROKERS
 * A measurement, not a gate: exits 0 whatever the figures (1 only if it could not run).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const RUN_ID = randomBytes(4).toString('hex');
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
process.env['LOG_LEVEL'] ??= 'warn';
process.env['MONGO_DB'] = `bench_telemetry_${RUN_ID}`;

const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw.replace(/_/g, '')) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};
const DEVICES = int('BENCH_DEVICES', 20_000);
const SECONDS = int('BENCH_SECONDS', 60);
const BATCH = int('BENCH_BATCH', 1_000);
const CONCURRENCY = int('BENCH_CONCURRENCY', 4);
const TARGET = int('BENCH_TARGET_RATE', 50_000);
/** A million devices at about one press a month is 0.4 presses/s; 2/s is a busy evening. */
const SOS_PER_SEC = int('BENCH_SOS_PER_SEC', 2);
const OUT = resolve(process.env['BENCH_OUT'] ?? 'bench/results/telemetry.json');
const MONGO_URL = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/';
const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;
const say = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const watchdog = setTimeout(() => {
  say('hard stop (watchdog)');
  process.exit(1);
}, (SECONDS * 2 + 600) * 1000);
watchdog.unref();

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

async function main(): Promise<void> {
  // Loaded after MONGO_DB is set: the app's config is validated when its module is imported.
  const { Kafka, logLevel } = await import('kafkajs');
  const { MongoClient } = await import('mongodb');
  const { MonitoringTopics } = await import('@yiyang/contracts');
  const { mintInternalToken } = await import('@yiyang/service-kit');
  const { regionPath } = await import('@yiyang/geo');
  const { createServiceApp } = await import('@yiyang/service-kit');
  const { AppModule } = await import('../../apps/monitoring/src/app.module');
  const { SERVICE } = await import('../../apps/monitoring/src/service');
  const { DeviceDirectory } = await import('../../apps/monitoring/src/devices/device-directory');
  const { SimDevice } = await import('../../tools/device-simulator/model');

  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ clientId: `bench-telemetry-${RUN_ID}`, brokers, logLevel: logLevel.NOTHING });
  const prefix = `bench-telemetry-${RUN_ID}`;

  // Fresh consumer groups start at the topic's current end (earlier runs left millions of readings).
  const admin = kafka.admin();
  await admin.connect();
  for (const [group, topics] of Object.entries({ rules: [MonitoringTopics.telemetry.name], 'registry-facts': ['yiyang.registry.elders.v1', 'yiyang.registry.facilities.v1', 'yiyang.registry.regions.v1'] })) {
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId: `${prefix}.${group}`, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
    }
  }
  await admin.disconnect();

  // Devices straight into the database (registering 20,000 through the API is the registry-import
  // bench's business, not this one's): smart watches, one reading per device per 20 s.
  const mongo = await MongoClient.connect(MONGO_URL);
  const db = mongo.db(process.env['MONGO_DB']);
  const vendorId = `bench-${RUN_ID}`;
  const community = '130203001001';
  const path = regionPath(community);
  const now = new Date();
  const docs = Array.from({ length: DEVICES }, (_, i) => ({
    _id: `dev-${RUN_ID}-${i}`,
    vendorId,
    externalId: `w${i}`,
    kind: 'SMART_WATCH',
    model: 'YY-W1',
    elderId: `elder-${RUN_ID}-${i}`,
    facilityId: null,
    regionCode: community,
    regionPath: path,
    location: { lat: 39.64, lng: 118.17 },
    boundSince: now,
    heartbeatIntervalSec: 300,
    battery: 80,
    active: true,
    updatedAt: now,
    version: 1,
    outbox: [],
    outboxPending: false,
  }));
  for (let i = 0; i < docs.length; i += 5_000) await db.collection('devices').insertMany(docs.slice(i, i + 5_000) as never[]);
  say(`${DEVICES} devices stored`);

  const app = await createServiceApp(
    AppModule.forRoot({ groupPrefix: prefix, env: { LOG_LEVEL: 'warn', SILENCE_BOOT_GRACE_MS: String(3_600_000), MONGO_DB: String(process.env['MONGO_DB']) } }),
    SERVICE,
  );
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  await app.get(DeviceDirectory).refresh();
  const token = mintInternalToken('yiyang-local-development-internal-token-secret', { userId: 'bench', role: 'civil_affairs_admin', regionCode: '130200000000' });
  const vendor = await fetch(`${base}/vendors`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ vendorId, name: 'bench' }) });
  const { apiKey } = (await vendor.json()) as { apiKey: string };
  say(`monitoring up on ${base}; ${app.get(DeviceDirectory).size} devices in its directory`);

  // The baseline and the alert watcher.
  let bareReadings = 0;
  let bareFirst = 0;
  let bareLast = 0;
  const bare = kafka.consumer({ groupId: `${prefix}-bare` });
  {
    const offsets = await kafka.admin();
    await offsets.connect();
    const o = await offsets.fetchTopicOffsets(MonitoringTopics.telemetry.name);
    await offsets.setOffsets({ groupId: `${prefix}-bare`, topic: MonitoringTopics.telemetry.name, partitions: o.map((p) => ({ partition: p.partition, offset: p.high })) });
    await offsets.disconnect();
  }
  await bare.connect();
  await bare.subscribe({ topic: MonitoringTopics.telemetry.name });
  await bare.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const env = JSON.parse(m.value?.toString() ?? '{}') as { payload?: { vendorId?: string; readings?: unknown[] } };
        if (env.payload?.vendorId === vendorId) bareReadings += env.payload.readings?.length ?? 0;
      }
      const t = performance.now();
      if (!bareFirst) bareFirst = t;
      bareLast = t;
    },
  });

  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const alerts = kafka.consumer({ groupId: `${prefix}-alerts` });
  await alerts.connect();
  await alerts.subscribe({ topic: MonitoringTopics.alerts.name });
  await alerts.run({
    eachMessage: async ({ message }) => {
      const env = JSON.parse(message.value?.toString() ?? '{}') as { type?: string; payload?: { deviceId: string; evidence: { at: string }[] } };
      if (env.type !== 'monitoring.alert.raised' || !env.payload) return;
      const key = `${env.payload.deviceId}|${Date.parse(env.payload.evidence[0]?.at ?? '')}`;
      const at = sent.get(key);
      if (at !== undefined) latencies.push(performance.now() - at);
    },
  });
  await sleep(4_000); // consumers join

  // Rule-engine progress from its own Prometheus counter.
  const { register } = await import('prom-client');
  const engineCount = async () => {
    const m = (await register.getSingleMetric('yiyang_rule_readings_total')?.get()) as { values: { value: number; labels: { outcome?: string } }[] } | undefined;
    // Only readings of devices this run registered (others may be publishing on the shared topic).
    return (m?.values ?? []).filter((v) => v.labels.outcome !== 'unbound').reduce((s, v) => s + v.value, 0);
  };

  const sims = Array.from({ length: DEVICES }, (_, i) => new SimDevice(`w${i}`, 'SMART_WATCH', { lat: 39.64, lng: 118.17 }, i + 1, Date.now(), undefined, 20));
  const idToDevice = (i: number) => `dev-${RUN_ID}-${i}`;
  let cursor = 0;
  /** The next batch of readings: each device's periodic reading, round-robin over the fleet. */
  const nextBatch = () => {
    const t = Date.now();
    const readings = [];
    for (let k = 0; k < BATCH; k++) {
      const d = sims[cursor];
      cursor = (cursor + 1) % DEVICES;
      const r = d.periodic(t);
      readings.push(r);
    }
    return readings;
  };
  const post = async (readings: unknown[]) => {
    const res = await fetch(`${base}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify({ readings }) });
    const body = (await res.json()) as { accepted?: number };
    if (!res.ok) throw new Error(`ingestion ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    return body.accepted ?? 0;
  };

  const rss: { t: number; rss: number }[] = [];
  const sampler = setInterval(() => rss.push({ t: performance.now(), rss: process.memoryUsage().rss }), 1_000);

  // Warm-up: one reading from every device (first sight of a device is not the steady state).
  for (let i = 0; i < DEVICES; i += BATCH * CONCURRENCY) await Promise.all(Array.from({ length: CONCURRENCY }, () => post(nextBatch())));
  for (let i = 0; i < 120 && (await engineCount()) < DEVICES; i++) await sleep(500);
  say(`warm-up done: ${await engineCount()} readings evaluated`);

  // ── Phase 1: as fast as it goes ──
  say(`phase 1: ${SECONDS} s at full speed, ${CONCURRENCY} deliveries of ${BATCH} in flight`);
  const engineStart = await engineCount();
  const bareStart = bareReadings;
  bareFirst = 0;
  let accepted = 0;
  const p1Start = performance.now();
  const p1End = p1Start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < p1End) {
        const n = await post(nextBatch()); // not `accepted += await …`: that reads `accepted` before the await
        accepted += n;
      }
    }),
  );
  const ingestSeconds = (performance.now() - p1Start) / 1000;
  say(`ingested ${accepted} readings in ${ingestSeconds.toFixed(1)} s; draining`);
  // Drained when neither consumer has moved for 3 s (counted from what the topic carried: a
  // delivery the producer retried is on the topic, and both consumers see it alike).
  let engineDone = 0;
  let engineLast = performance.now();
  let bareSeen = bareReadings;
  for (let still = 0; still < 6; ) {
    await sleep(500);
    const e = (await engineCount()) - engineStart;
    if (e !== engineDone || bareReadings !== bareSeen) {
      still = 0;
      if (e !== engineDone) engineLast = performance.now();
    } else still++;
    engineDone = e;
    bareSeen = bareReadings;
  }
  const engineSeconds = (engineLast - p1Start) / 1000;
  const bareSeconds = ((bareLast || performance.now()) - p1Start) / 1000;
  const phase1 = {
    seconds: SECONDS,
    ingestedReadings: accepted,
    ingestReadingsPerSec: Math.round(accepted / ingestSeconds),
    engineReadings: engineDone,
    engineReadingsPerSec: Math.round(engineDone / engineSeconds),
    bareReadings: bareReadings - bareStart,
    bareReadingsPerSec: Math.round((bareReadings - bareStart) / bareSeconds),
    engineVsBare: Math.round((engineDone / engineSeconds / ((bareReadings - bareStart) / bareSeconds)) * 100) / 100,
  };
  say(`phase 1: ${JSON.stringify(phase1)}`);

  // ── Phase 2: half load, SOS presses, latency and memory ──
  const rate = Math.min(Math.floor(TARGET / 2), Math.floor(phase1.engineReadingsPerSec / 2) || 1);
  say(`phase 2: ${SECONDS} s at ${rate} readings/s with ${SOS_PER_SEC} SOS presses/s`);
  const rssFrom = rss.length;
  const p2Start = performance.now();
  let sos = 0;
  let sentReadings = 0;
  const sosDevice = (n: number) => n % DEVICES;
  while (performance.now() - p2Start < SECONDS * 1000) {
    const tickStart = performance.now();
    const due = Math.floor(((tickStart - p2Start) / 1000) * rate) - sentReadings;
    const batches: unknown[][] = [];
    for (let left = due; left > 0; left -= BATCH) batches.push(nextBatch().slice(0, Math.min(BATCH, left)));
    // SOS_PER_SEC presses, each on its own device (an open alert would merge a second press).
    const presses = Math.floor((tickStart - p2Start) / (1000 / SOS_PER_SEC)) - sos;
    for (let k = 0; k < presses; k++) {
      const n = sosDevice(sos++);
      const at = Date.now() - k;
      sent.set(`${idToDevice(n)}|${at}`, performance.now());
      batches.push([{ externalId: `w${n}`, kind: 'SOS', at }]);
    }
    await Promise.all(batches.map((b) => post(b)));
    sentReadings += due > 0 ? due : 0;
    await sleep(Math.max(0, 100 - (performance.now() - tickStart)));
  }
  for (let i = 0; i < 120 && latencies.length < sos; i++) await sleep(500);
  clearInterval(sampler);
  const p2 = rss.slice(rssFrom);
  const at = (f: number) => p2[Math.min(p2.length - 1, Math.floor(f * p2.length))]?.rss ?? 0;
  const sorted = [...latencies].sort((a, b) => a - b);
  const phase2 = {
    seconds: SECONDS,
    readingsPerSec: rate,
    sosPressed: sos,
    alertsSeen: latencies.length,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length ? Math.round(sorted[sorted.length - 1]) : null },
    rssMb: { at10pct: mb(at(0.1)), at90pct: mb(at(0.9)), peak: mb(Math.max(...p2.map((s) => s.rss))) },
  };
  say(`phase 2: ${JSON.stringify(phase2)}`);

  const result = {
    benchmark: 'telemetry',
    runId: RUN_ID,
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    config: { sosPerSec: SOS_PER_SEC, devices: DEVICES, seconds: SECONDS, batch: BATCH, concurrency: CONCURRENCY, targetRate: TARGET, readingsPerRecord: 1 },
    targets: { readingsPerSec: TARGET, vsBare: 0.5, p99Ms: 250 },
    phase1,
    phase2,
    verdict: {
      throughput: phase1.engineReadingsPerSec >= TARGET,
      vsBare: phase1.engineVsBare >= 0.5,
      latency: phase2.latencyMs.p99 !== null && phase2.latencyMs.p99 <= 250,
      memoryFlat: phase2.rssMb.at90pct <= phase2.rssMb.at10pct * 1.15,
    },
    note: 'One process on a shared 2-core machine: load generator, HTTP ingestion, rule engine and the bare consumer compete for the same CPUs; other helpers were running builds and tests at the same time.',
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  say(`written ${OUT}`);

  await alerts.disconnect();
  await bare.disconnect();
  await app.close();
  await db.dropDatabase().catch(() => undefined);
  await mongo.close();
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    say(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  });
