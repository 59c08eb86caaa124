/**
 * Messaging round-trip benchmark: produce → REAL Kafka broker → consume → handler, two variants in
 * one run, each on its own fresh topic with the same partition count:
 *
 *   baseline  bare kafkajs: `kafka.producer()` with default settings sending plain JSON, and a plain
 *             consumer group (`eachMessage`, default autoCommit) that JSON.parses and records latency.
 *   backbone  @yiyang/messaging: EventPublisher publishing envelopes built by newEnvelope, consumed by
 *             EventConsumer with one registered handler that records latency.
 *
 * Throughput = measured messages / (first send → last message handled). Latency = handler time −
 * `sentAt` stamped into the payload right before the batch is built (same process, same clock).
 *
 * Run from the repo root: `npm run infra:up && npm run bench:messaging`. Knobs (env):
 *   BENCH_MESSAGES (50000)  BENCH_BATCH (500)  BENCH_KEYS (1000)  BENCH_PARTITIONS (6)
 *   BENCH_WARMUP (2000)     BENCH_INFLIGHT (1: send calls in flight at once, same for both variants)
 *   BENCH_VARIANTS (baseline,backbone)  BENCH_TARGET (0.5)  BENCH_DRAIN_TIMEOUT_MS (180000)
 *   BENCH_TIMEOUT_MS (600000: hard stop for the whole run)  BENCH_OUT (bench/results/messaging.json)
 *   KAFKA_BROKERS (127.0.0.1:9092)
 * It is a measurement: it exits 0 whether or not the target is met (1 only if it could not run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import pino from 'pino';
import { z } from 'zod';
import { defineEvent, defineTopic, deadLetterTopicName } from '@yiyang/contracts';
import {
  createKafka,
  ensureTopics,
  EventConsumer,
  EventPublisher,
  newEnvelope,
  parseBrokers,
  type HandlerRegistration,
} from '@yiyang/messaging';

// ---------------------------------------------------------------------------------------------------
// Configuration

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

const config = {
  messages: intEnv('BENCH_MESSAGES', 50_000),
  batchSize: intEnv('BENCH_BATCH', 500),
  keys: intEnv('BENCH_KEYS', 1_000),
  partitions: intEnv('BENCH_PARTITIONS', 6),
  warmup: intEnv('BENCH_WARMUP', 2_000, 0),
  inflight: intEnv('BENCH_INFLIGHT', 1),
  target: Number(process.env['BENCH_TARGET'] ?? 0.5),
  joinTimeoutMs: intEnv('BENCH_JOIN_TIMEOUT_MS', 60_000),
  drainTimeoutMs: intEnv('BENCH_DRAIN_TIMEOUT_MS', 180_000),
  totalTimeoutMs: intEnv('BENCH_TIMEOUT_MS', 600_000),
  variants: (process.env['BENCH_VARIANTS'] ?? 'baseline,backbone').split(',').map((v) => v.trim()).filter(Boolean),
  out: resolve(process.env['BENCH_OUT'] ?? 'bench/results/messaging.json'),
  brokers: parseBrokers(process.env['KAFKA_BROKERS']),
};

const RUN_ID = randomBytes(4).toString('hex');
const log = pino({ level: process.env['BENCH_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));

// ---------------------------------------------------------------------------------------------------
// The payload: an order-like object of ~10 fields, identical for both variants.

const OrderPlacedPayload = z.object({
  orderId: z.string().min(1),
  elderId: z.string().min(1),
  providerId: z.string().min(1),
  serviceCode: z.string().min(1),
  status: z.enum(['PLACED', 'CONFIRMED']),
  amountCents: z.number().int().nonnegative(),
  currency: z.string().length(3),
  scheduledFor: z.string().min(1),
  note: z.string(),
  phase: z.enum(['warmup', 'measure']),
  i: z.number().int().nonnegative(),
  sentAt: z.number(),
});
type OrderPlaced = z.infer<typeof OrderPlacedPayload>;

function keyOf(i: number): string {
  return `elder-${String(i % config.keys).padStart(5, '0')}`;
}

function payloadOf(i: number, phase: OrderPlaced['phase'], sentAt: number): OrderPlaced {
  return {
    orderId: `ord-${RUN_ID}-${phase[0]}${i}`,
    elderId: keyOf(i),
    providerId: `prov-${i % 37}`,
    serviceCode: 'HOME-CARE-BATH',
    status: 'PLACED',
    amountCents: 12_000 + (i % 500),
    currency: 'CNY',
    scheduledFor: '2025-06-01T09:30:00.000Z',
    note: 'ring twice; elevator out of service on Tuesdays',
    phase,
    i,
    sentAt,
  };
}

// ---------------------------------------------------------------------------------------------------
// Bookkeeping shared by both variants

class Tracker {
  readonly seen: Uint8Array;
  readonly latencies: Float64Array;
  received = 0;
  duplicates = 0;
  warmSeen = new Set<number>();
  lastAt = 0;
  private done?: () => void;
  readonly complete: Promise<void>;

  constructor(readonly total: number) {
    this.seen = new Uint8Array(total);
    this.latencies = new Float64Array(total);
    this.complete = new Promise((r) => (this.done = r));
    if (total === 0) this.done!();
  }

  /** Called from the handler; must stay cheap so it measures the pipeline, not itself. */
  record(p: Pick<OrderPlaced, 'phase' | 'i' | 'sentAt'>): void {
    const now = performance.now();
    if (p.phase === 'warmup') {
      this.warmSeen.add(p.i);
      return;
    }
    if (this.seen[p.i]) {
      this.duplicates++;
      return;
    }
    this.seen[p.i] = 1;
    this.latencies[p.i] = now - p.sentAt;
    this.lastAt = now;
    if (++this.received === this.total) this.done!();
  }
}

interface Variant {
  readonly name: 'baseline' | 'backbone';
  readonly description: string;
  /** Topics and groups to remove at the end. */
  readonly topics: string[];
  readonly groups: string[];
  setup(): Promise<void>;
  startConsumer(tracker: Tracker): Promise<void>;
  /** Sends one batch; resolves when the broker acknowledged it. */
  send(batch: OrderPlaced[]): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// (a) baseline: bare kafkajs

function baselineVariant(): Variant {
  const topic = `yiyang.bench.baseline-${RUN_ID}.v1`;
  const groupId = `bench.baseline-${RUN_ID}`;
  const kafka = new Kafka({ clientId: `bench-baseline-${RUN_ID}`, brokers: config.brokers, logLevel: logLevel.WARN });
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  return {
    name: 'baseline',
    description: 'bare kafkajs: kafka.producer() defaults, send() of JSON; consumer group eachMessage + JSON.parse',
    topics: [topic],
    groups: [groupId],
    async setup() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: config.partitions, replicationFactor: -1 }],
        });
      } finally {
        await admin.disconnect();
      }
      producer = kafka.producer();
      await producer.connect();
    },
    async startConsumer(tracker) {
      consumer = kafka.consumer({ groupId });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          tracker.record(JSON.parse(message.value!.toString()) as OrderPlaced);
        },
      });
    },
    async send(batch) {
      await producer!.send({
        topic,
        messages: batch.map((p) => ({ key: p.elderId, value: JSON.stringify(p) })),
      });
    },
    async stop() {
      await consumer?.disconnect().catch((e) => log.warn({ err: e }, 'baseline consumer disconnect'));
      await producer?.disconnect().catch((e) => log.warn({ err: e }, 'baseline producer disconnect'));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// (b) backbone: @yiyang/messaging

function backboneVariant(): Variant {
  const topicDef = defineTopic({ name: `yiyang.bench.backbone-${RUN_ID}.v1`, partitions: config.partitions, key: 'elderId' });
  const OrderPlacedEvent = defineEvent({ topic: topicDef, type: 'bench.order.placed', version: 1, payload: OrderPlacedPayload });
  const groupId = `bench.backbone-${RUN_ID}`;
  const kafka = createKafka(`bench-backbone-${RUN_ID}`, config.brokers, log);
  const publisher = new EventPublisher(kafka);
  let consumer: EventConsumer | undefined;
  return {
    name: 'backbone',
    description:
      'EventPublisher.publish(newEnvelope(...)) (idempotent, acks=all, maxInFlight 1); EventConsumer + registered handler',
    topics: [topicDef.name, deadLetterTopicName(topicDef.name)],
    groups: [groupId],
    async setup() {
      await ensureTopics(kafka, [topicDef]);
      await publisher.connect();
    },
    async startConsumer(tracker) {
      const registration: HandlerRegistration = {
        event: OrderPlacedEvent as HandlerRegistration['event'],
        group: 'bench',
        name: 'Bench.onOrderPlaced',
        handler: async (payload) => tracker.record(payload as OrderPlaced),
      };
      consumer = new EventConsumer(kafka, publisher, log, {
        groupId,
        service: 'bench',
        registrations: [registration],
        fromBeginning: true,
        // partitionsConsumedConcurrently: library default (3), exactly as a service would run it.
        ...(process.env['BENCH_BACKBONE_PCC'] ? { partitionsConsumedConcurrently: intEnv('BENCH_BACKBONE_PCC', 3) } : {}),
      });
      await consumer.start();
    },
    async send(batch) {
      const envelopes = batch.map((p) => newEnvelope('bench', OrderPlacedEvent, { key: p.elderId, payload: p }));
      await publisher.publish(envelopes, () => topicDef.name);
    },
    async stop() {
      await consumer?.stop().catch((e) => log.warn({ err: e }, 'backbone consumer stop'));
      await publisher.disconnect().catch((e) => log.warn({ err: e }, 'backbone publisher disconnect'));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Running one variant

interface VariantResult {
  variant: string;
  description: string;
  completed: boolean;
  error?: string;
  messages: number;
  received: number;
  duplicates: number;
  /** First send → last measured message handled. */
  durationMs: number;
  msgsPerSec: number;
  /** First send → last send acknowledged (producer side alone). */
  produceMs: number;
  produceMsgsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  joinMs: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx];
}

const round = (x: number, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);

/** Sends `count` messages in batches, `config.inflight` send calls at a time. */
async function sendAll(variant: Variant, count: number, phase: OrderPlaced['phase'], offset = 0): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      if (start >= count) return;
      next += config.batchSize;
      const end = Math.min(start + config.batchSize, count);
      const sentAt = performance.now();
      const batch: OrderPlaced[] = [];
      for (let i = start; i < end; i++) batch.push(payloadOf(offset + i, phase, sentAt));
      await variant.send(batch);
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.inflight, Math.ceil(count / config.batchSize)) }, worker));
}

async function runVariant(variant: Variant): Promise<VariantResult> {
  const N = config.messages;
  const tracker = new Tracker(N);
  const result: VariantResult = {
    variant: variant.name,
    description: variant.description,
    completed: false,
    messages: N,
    received: 0,
    duplicates: 0,
    durationMs: NaN,
    msgsPerSec: NaN,
    produceMs: NaN,
    produceMsgsPerSec: NaN,
    latencyMs: { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN },
    joinMs: NaN,
  };
  try {
    progress(`[${variant.name}] creating topic (${config.partitions} partitions), connecting`);
    await withTimeout(variant.setup(), 60_000, `${variant.name} setup`);

    // Consumer first; it has joined once it handles a probe message.
    const joinStart = performance.now();
    await withTimeout(variant.startConsumer(tracker), config.joinTimeoutMs, `${variant.name} consumer start`);
    await withTimeout(sendAll(variant, 1, 'warmup', 1_000_000_000), 30_000, `${variant.name} probe send`);
    await until(() => tracker.warmSeen.has(1_000_000_000), config.joinTimeoutMs, `${variant.name} consumer joined`);
    result.joinMs = performance.now() - joinStart;
    progress(`[${variant.name}] consumer joined in ${Math.round(result.joinMs)} ms; warm-up ${config.warmup} messages`);

    if (config.warmup > 0) {
      await withTimeout(sendAll(variant, config.warmup, 'warmup'), config.drainTimeoutMs, `${variant.name} warm-up send`);
      await until(() => tracker.warmSeen.size >= config.warmup + 1, config.drainTimeoutMs, `${variant.name} warm-up drain`);
    }

    progress(`[${variant.name}] measuring ${N} messages`);
    const t0 = performance.now();
    const produced = sendAll(variant, N, 'measure').then(() => {
      result.produceMs = performance.now() - t0;
    });
    await withTimeout(Promise.all([produced, tracker.complete]), config.drainTimeoutMs, `${variant.name} measured run`);
    result.completed = true;
    result.durationMs = tracker.lastAt - t0;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    progress(`[${variant.name}] FAILED: ${result.error}`);
  } finally {
    result.received = tracker.received;
    result.duplicates = tracker.duplicates;
    if (result.completed) {
      result.msgsPerSec = N / (result.durationMs / 1000);
      result.produceMsgsPerSec = N / (result.produceMs / 1000);
    }
    const got = new Float64Array(tracker.received);
    let k = 0;
    let sum = 0;
    for (let i = 0; i < N; i++) {
      if (tracker.seen[i]) {
        got[k++] = tracker.latencies[i];
        sum += tracker.latencies[i];
      }
    }
    got.sort();
    result.latencyMs = {
      p50: percentile(got, 0.5),
      p90: percentile(got, 0.9),
      p99: percentile(got, 0.99),
      max: got.length ? got[got.length - 1] : NaN,
      mean: got.length ? sum / got.length : NaN,
    };
    await withTimeout(variant.stop(), 30_000, `${variant.name} stop`).catch((e) => log.warn({ err: e }, 'stop'));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Cleanup: topics and consumer groups of this run, whatever happened.

const created: Variant[] = [];
let cleanedUp: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    const topics = created.flatMap((v) => v.topics);
    const groups = created.flatMap((v) => v.groups);
    if (topics.length === 0) return;
    const admin = new Kafka({ clientId: `bench-cleanup-${RUN_ID}`, brokers: config.brokers, logLevel: logLevel.NOTHING }).admin();
    try {
      await withTimeout(admin.connect(), 10_000, 'cleanup connect');
      const existing = new Set(await admin.listTopics());
      const doomed = topics.filter((t) => existing.has(t));
      if (doomed.length > 0) await withTimeout(admin.deleteTopics({ topics: doomed, timeout: 15_000 }), 20_000, 'deleteTopics');
      await withTimeout(admin.deleteGroups(groups), 10_000, 'deleteGroups').catch(() => undefined);
      progress(`cleanup: deleted topics ${doomed.join(', ') || '(none)'} and groups ${groups.join(', ')}`);
    } catch (error) {
      progress(`cleanup FAILED (delete by hand: ${topics.join(', ')}): ${error instanceof Error ? error.message : error}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  })();
  return cleanedUp;
}

function progress(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------

function fmt(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<number> {
  const factories: Record<string, () => Variant> = { baseline: baselineVariant, backbone: backboneVariant };
  for (const v of config.variants) if (!factories[v]) throw new Error(`unknown variant "${v}" (baseline, backbone)`);

  progress(
    `messaging round-trip bench ${RUN_ID}: N=${config.messages}, batch=${config.batchSize}, keys=${config.keys}, ` +
      `partitions=${config.partitions}, warm-up=${config.warmup}, in-flight sends=${config.inflight}, brokers=${config.brokers.join(',')}`,
  );

  const results: VariantResult[] = [];
  for (const name of config.variants) {
    const variant = factories[name]();
    created.push(variant);
    results.push(await runVariant(variant));
  }
  await cleanup();

  const byName = Object.fromEntries(results.map((r) => [r.variant, r]));
  const base = byName['baseline'];
  const back = byName['backbone'];
  const ratio = base?.completed && back?.completed ? back.msgsPerSec / base.msgsPerSec : null;
  const pass = ratio !== null && ratio >= config.target;

  const report = {
    benchmark: 'messaging-roundtrip',
    runId: RUN_ID,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    brokers: config.brokers,
    config: {
      messages: config.messages,
      batchSize: config.batchSize,
      keys: config.keys,
      partitions: config.partitions,
      warmup: config.warmup,
      inflightSends: config.inflight,
    },
    N: config.messages,
    variants: Object.fromEntries(
      results.map((r) => [
        r.variant,
        {
          ...r,
          durationMs: round(r.durationMs),
          msgsPerSec: round(r.msgsPerSec, 0),
          produceMs: round(r.produceMs),
          produceMsgsPerSec: round(r.produceMsgsPerSec, 0),
          joinMs: round(r.joinMs, 0),
          p50Ms: round(r.latencyMs.p50, 2),
          p99Ms: round(r.latencyMs.p99, 2),
          latencyMs: Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [k, round(v, 2)])),
        },
      ]),
    ),
    ratio: ratio === null ? null : round(ratio, 3),
    target: config.target,
    pass,
  };
  mkdirSync(dirname(config.out), { recursive: true });
  writeFileSync(config.out, `${JSON.stringify(report, null, 2)}\n`);

  const rows = results.map((r) => [
    r.variant,
    r.completed ? fmt(r.msgsPerSec) : `FAILED (${r.received}/${r.messages})`,
    fmt(r.produceMsgsPerSec),
    fmt(r.latencyMs.p50, 1),
    fmt(r.latencyMs.p99, 1),
    fmt(r.latencyMs.max, 1),
    String(r.duplicates),
  ]);
  const header = ['variant', 'msgs/s (e2e)', 'produce msgs/s', 'p50 ms', 'p99 ms', 'max ms', 'dups'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log('');
  console.log(`Messaging round-trip, N=${config.messages}, batch=${config.batchSize}, ${config.partitions} partitions, ${config.keys} keys (${process.version}, ${cpus().length} CPUs)`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
  if (ratio === null) {
    console.log(`ratio backbone/baseline: n/a (a variant did not complete) — target ≥ ${config.target}: NOT MET`);
  } else {
    console.log(`ratio backbone/baseline throughput: ${ratio.toFixed(3)}  — target ≥ ${config.target}: ${pass ? 'MET' : 'NOT MET'}`);
  }
  console.log(`results written to ${config.out}`);
  return 0;
}

// Hard stop: the run ends by itself even if the broker or a client hangs.
const watchdog = setTimeout(() => {
  progress(`watchdog: run exceeded ${config.totalTimeoutMs} ms, cleaning up and exiting`);
  void withTimeout(cleanup(), 30_000, 'cleanup').finally(() => process.exit(1));
}, config.totalTimeoutMs);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    void withTimeout(cleanup(), 30_000, 'cleanup').finally(() => process.exit(130));
  });
}

main()
  .then((code) => process.exit(code))
  .catch(async (error) => {
    progress(`bench could not run: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    await withTimeout(cleanup(), 30_000, 'cleanup').catch(() => undefined);
    process.exit(1);
  });
