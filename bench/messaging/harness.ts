/**
 * Shared machinery of the messaging benchmarks (run.ts, ablation.ts): configuration, the payload,
 * the latency/throughput tracker, one variant's produce → broker → consume → handler round trip,
 * building blocks for producers and consumers, cleanup and a hard watchdog.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Consumer, type IHeaders, type Producer } from 'kafkajs';
import pino from 'pino';
import { z } from 'zod';
import { defineEvent, defineTopic, type EventDefinition, type TopicDefinition } from '@yiyang/contracts';
import {
  createKafka,
  ensureTopics,
  EventConsumer,
  EventPublisher,
  newEnvelope,
  parseBrokers,
  type HandlerRegistration,
} from '@yiyang/messaging';

// The baseline deliberately uses kafkajs' default partitioner; its v2 migration notice is noise here.
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

// ---------------------------------------------------------------------------------------------------
// Configuration

export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

export const config = {
  messages: intEnv('BENCH_MESSAGES', 50_000),
  batchSize: intEnv('BENCH_BATCH', 500),
  keys: intEnv('BENCH_KEYS', 1_000),
  partitions: intEnv('BENCH_PARTITIONS', 6),
  warmup: intEnv('BENCH_WARMUP', 2_000, 0),
  inflight: intEnv('BENCH_INFLIGHT', 1),
  /** Rounds per variant, run in A B B A order so drift and JIT warm-up hit both variants alike. */
  rounds: intEnv('BENCH_ROUNDS', 2),
  target: Number(process.env['BENCH_TARGET'] ?? 0.5),
  joinTimeoutMs: intEnv('BENCH_JOIN_TIMEOUT_MS', 60_000),
  drainTimeoutMs: intEnv('BENCH_DRAIN_TIMEOUT_MS', 180_000),
  totalTimeoutMs: intEnv('BENCH_TIMEOUT_MS', 600_000),
  brokers: parseBrokers(process.env['KAFKA_BROKERS']),
};

export const RUN_ID = randomBytes(4).toString('hex');
export const log = pino({ level: process.env['BENCH_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
export const outPath = (fallback: string) => resolve(process.env['BENCH_OUT'] ?? fallback);

export function progress(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The payload: an order-like object of a dozen fields, identical for every variant.

export const OrderPlacedPayload = z.object({
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
export type OrderPlaced = z.infer<typeof OrderPlacedPayload>;

export function keyOf(i: number): string {
  return `elder-${String(i % config.keys).padStart(5, '0')}`;
}

export function payloadOf(i: number, phase: OrderPlaced['phase'], sentAt: number): OrderPlaced {
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

/** A fresh topic of this run, `yiyang.bench.<label>-<run>.v1`, with the configured partition count. */
export function benchTopic(label: string): TopicDefinition {
  return defineTopic({
    name: `yiyang.bench.${label}-${RUN_ID}.v1`,
    partitions: config.partitions,
    key: 'elderId',
  });
}

export function benchEvent(topic: TopicDefinition): EventDefinition<OrderPlaced> {
  return defineEvent({ topic, type: 'bench.order.placed', version: 1, payload: OrderPlacedPayload });
}

// ---------------------------------------------------------------------------------------------------
// Bookkeeping

export class Tracker {
  readonly seen: Uint8Array;
  readonly latencies: Float64Array;
  received = 0;
  duplicates = 0;
  readonly warmSeen = new Set<number>();
  lastAt = 0;
  private done!: () => void;
  readonly complete: Promise<void>;

  constructor(readonly total: number) {
    this.seen = new Uint8Array(total);
    this.latencies = new Float64Array(total);
    this.complete = new Promise((r) => (this.done = r));
    if (total === 0) this.done();
  }

  /** Called from the handler; kept cheap so it measures the pipeline, not itself. */
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
    if (++this.received === this.total) this.done();
  }
}

/** One produce → consume → handler pipeline on its own topic and consumer group. */
export interface Variant {
  readonly name: string;
  readonly description: string;
  readonly topic: TopicDefinition;
  readonly groupId: string;
  /** Creates the topic(s) and connects the producer. */
  setup(): Promise<void>;
  /** Starts the consumer; every handled payload goes to tracker.record. */
  startConsumer(tracker: Tracker): Promise<void>;
  /** Sends one batch with one send call; resolves when the broker acknowledged it. */
  send(batch: OrderPlaced[]): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Building blocks. A variant = one producer side + one consumer side on one topic.

export interface ProducerSide {
  connect(): Promise<void>;
  send(batch: OrderPlaced[]): Promise<void>;
  disconnect(): Promise<void>;
}
export interface ConsumerSide {
  start(tracker: Tracker): Promise<void>;
  stop(): Promise<void>;
}

export interface PlainProducerOptions {
  /** 'payload': JSON of the payload alone (the baseline); 'envelope': a hand-built envelope around it. */
  value: 'payload' | 'envelope';
  /** Add the four headers EventPublisher adds (content-type, event id, type, correlation id). */
  headers?: boolean;
  /** kafkajs producer options; the baseline passes none (defaults: not idempotent, unlimited in flight). */
  producer?: Parameters<Kafka['producer']>[0];
  /** acks for send(); kafkajs' default is -1 (all). */
  acks?: number;
}

/** A bare kafkajs producer: one `producer.send()` per batch. */
export function plainProducer(kafka: Kafka, topic: string, options: PlainProducerOptions): ProducerSide {
  const producer: Producer = kafka.producer(options.producer);
  let seq = 0;
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(batch) {
      const occurredAt = new Date().toISOString();
      await producer.send({
        topic,
        ...(options.acks === undefined ? {} : { acks: options.acks }),
        messages: batch.map((p) => {
          if (options.value === 'payload') return { key: p.elderId, value: JSON.stringify(p) };
          // Same shape and size as newEnvelope's output, without its validation and UUIDv7.
          const eventId = `0190c6f2-0000-7000-8000-${String(seq++).padStart(12, '0')}`;
          const envelope = {
            eventId,
            type: 'bench.order.placed',
            version: 1,
            occurredAt,
            producer: 'bench',
            key: p.elderId,
            correlationId: eventId,
            causationId: null,
            payload: p,
          };
          const headers: IHeaders | undefined = options.headers
            ? {
                'content-type': 'application/json',
                'yiyang-event-id': eventId,
                'yiyang-event-type': envelope.type,
                'yiyang-correlation-id': eventId,
              }
            : undefined;
          return { key: p.elderId, value: JSON.stringify(envelope), headers };
        }),
      });
    },
  };
}

/** EventPublisher.publish of envelopes built by newEnvelope (validates the payload, UUIDv7, headers). */
export function backbonePublisher(
  publisher: EventPublisher,
  event: EventDefinition<OrderPlaced>,
): ProducerSide {
  return {
    connect: () => publisher.connect(),
    disconnect: () => publisher.disconnect(),
    async send(batch) {
      const envelopes = batch.map((p) => newEnvelope('bench', event, { key: p.elderId, payload: p }));
      await publisher.publish(envelopes, () => event.topic.name);
    },
  };
}

/** A bare kafkajs consumer group: eachMessage + JSON.parse (unwraps `payload` when given envelopes). */
export function plainConsumer(
  kafka: Kafka,
  topic: string,
  groupId: string,
  value: 'payload' | 'envelope',
): ConsumerSide {
  const consumer: Consumer = kafka.consumer({ groupId });
  return {
    async start(tracker) {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const json = JSON.parse(String(message.value));
          tracker.record((value === 'payload' ? json : json.payload) as OrderPlaced);
        },
      });
    },
    stop: () => consumer.disconnect(),
  };
}

/** EventConsumer with one registered handler. `tweak` may patch the instance (ablation only). */
export function backboneConsumer(
  kafka: Kafka,
  publisher: EventPublisher,
  event: EventDefinition<OrderPlaced>,
  groupId: string,
  options: { partitionsConsumedConcurrently?: number; tweak?: (consumer: EventConsumer) => void } = {},
): ConsumerSide {
  let consumer: EventConsumer | undefined;
  return {
    async start(tracker) {
      const registration: HandlerRegistration = {
        event: event as HandlerRegistration['event'],
        group: 'bench',
        name: 'Bench.onOrderPlaced',
        handler: async (payload) => tracker.record(payload as OrderPlaced),
      };
      consumer = new EventConsumer(kafka, publisher, log, {
        groupId,
        service: 'bench',
        registrations: [registration],
        fromBeginning: true,
        // Unset = the library default (3), exactly as a service runs it.
        ...(options.partitionsConsumedConcurrently
          ? { partitionsConsumedConcurrently: options.partitionsConsumedConcurrently }
          : {}),
      });
      options.tweak?.(consumer);
      await consumer.start();
    },
    stop: async () => {
      await consumer?.stop();
    },
  };
}

export interface ComposeOptions {
  name: string;
  description: string;
  /** Create the topic with ensureTopics (adds the .dlq twin) instead of a bare admin.createTopics. */
  viaEnsureTopics?: boolean;
  /** Kafka client: 'plain' = new Kafka({...}) as any kafkajs user would; 'backbone' = createKafka(). */
  client?: 'plain' | 'backbone';
  producer(ctx: ComposeContext): ProducerSide;
  consumer(ctx: ComposeContext): ConsumerSide;
}
export interface ComposeContext {
  kafka: Kafka;
  topic: TopicDefinition;
  event: EventDefinition<OrderPlaced>;
  groupId: string;
  /** Created on first use, shared by producer and consumer sides (the consumer uses it to dead-letter). */
  publisher(): EventPublisher;
}

export function composeVariant(options: ComposeOptions): Variant {
  const label = options.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  const topic = benchTopic(label);
  const event = benchEvent(topic);
  const groupId = `bench.${label}-${RUN_ID}`;
  const clientId = `bench-${label}-${RUN_ID}`;
  const kafka =
    options.client === 'backbone'
      ? createKafka(clientId, config.brokers, log)
      : new Kafka({ clientId, brokers: config.brokers, logLevel: logLevel.WARN });
  let publisher: EventPublisher | undefined;
  const ctx: ComposeContext = {
    kafka,
    topic,
    event,
    groupId,
    publisher: () => (publisher ??= new EventPublisher(kafka)),
  };
  const producer = options.producer(ctx);
  const consumer = options.consumer(ctx);
  let started = false;
  return {
    name: options.name,
    description: options.description,
    topic,
    groupId,
    async setup() {
      registerForCleanup(topic.name, groupId);
      if (options.viaEnsureTopics) {
        await ensureTopics(kafka, [topic]);
      } else {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await admin.createTopics({
            waitForLeaders: true,
            topics: [{ topic: topic.name, numPartitions: topic.partitions, replicationFactor: -1 }],
          });
        } finally {
          await admin.disconnect();
        }
      }
      await producer.connect();
    },
    async startConsumer(tracker) {
      started = true;
      await consumer.start(tracker);
    },
    send: (batch) => producer.send(batch),
    async stop() {
      if (started) await consumer.stop().catch((e) => log.warn({ err: e }, `${options.name}: consumer stop`));
      await producer.disconnect().catch((e) => log.warn({ err: e }, `${options.name}: producer disconnect`));
      if (publisher)
        await publisher
          .disconnect()
          .catch((e) => log.warn({ err: e }, `${options.name}: publisher disconnect`));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Running one variant

export interface VariantResult {
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
  /** First send → last send acknowledged (the producer side alone). */
  produceMs: number;
  produceMsgsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Consumer start → first probe message handled. */
  joinMs: number;
  /**
   * CPU time of this Node process (user + system) per measured message, producer and consumer
   * together. Far less sensitive to other load on the machine than wall-clock throughput.
   */
  cpuUsPerMsg: number;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const round = (x: number, digits = 1): number | null =>
  Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null;

const PROBE = 1_000_000_000;

/** Sends `count` messages in batches of config.batchSize, config.inflight send calls at a time. */
async function sendAll(
  variant: Variant,
  count: number,
  phase: OrderPlaced['phase'],
  offset = 0,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const start = next;
      const end = Math.min(start + config.batchSize, count);
      next = end;
      const sentAt = performance.now();
      const batch: OrderPlaced[] = [];
      for (let i = start; i < end; i++) batch.push(payloadOf(offset + i, phase, sentAt));
      await variant.send(batch);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(config.inflight, Math.ceil(count / config.batchSize)) }, worker),
  );
}

export async function runVariant(variant: Variant): Promise<VariantResult> {
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
    cpuUsPerMsg: NaN,
  };
  try {
    progress(
      `[${variant.name}] creating ${variant.topic.name} (${variant.topic.partitions} partitions), connecting`,
    );
    await withTimeout(variant.setup(), 60_000, `${variant.name} setup`);

    // Consumer first; it has joined its group once it handled a probe message.
    const joinStart = performance.now();
    await withTimeout(variant.startConsumer(tracker), config.joinTimeoutMs, `${variant.name} consumer start`);
    await withTimeout(sendAll(variant, 1, 'warmup', PROBE), 30_000, `${variant.name} probe send`);
    await until(
      () => tracker.warmSeen.has(PROBE),
      config.joinTimeoutMs,
      `${variant.name} consumer joining its group`,
    );
    result.joinMs = performance.now() - joinStart;

    if (config.warmup > 0) {
      progress(
        `[${variant.name}] consumer joined after ${Math.round(result.joinMs)} ms; warm-up ${config.warmup} messages`,
      );
      await withTimeout(
        sendAll(variant, config.warmup, 'warmup'),
        config.drainTimeoutMs,
        `${variant.name} warm-up send`,
      );
      await until(
        () => tracker.warmSeen.size >= config.warmup + 1,
        config.drainTimeoutMs,
        `${variant.name} warm-up drain`,
      );
    }

    progress(`[${variant.name}] measuring ${N} messages`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const produced = sendAll(variant, N, 'measure').then(() => {
      result.produceMs = performance.now() - t0;
    });
    await withTimeout(
      Promise.all([produced, tracker.complete]),
      config.drainTimeoutMs,
      `${variant.name} measured run`,
    );
    const cpu = process.cpuUsage(cpu0);
    result.completed = true;
    result.cpuUsPerMsg = (cpu.user + cpu.system) / N;
    result.durationMs = tracker.lastAt - t0;
    result.msgsPerSec = N / (result.durationMs / 1000);
    result.produceMsgsPerSec = N / (result.produceMs / 1000);
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    progress(`[${variant.name}] FAILED: ${result.error}`);
  } finally {
    result.received = tracker.received;
    result.duplicates = tracker.duplicates;
    const got = new Float64Array(tracker.received);
    let k = 0;
    let sum = 0;
    for (let i = 0; i < N; i++) {
      if (!tracker.seen[i]) continue;
      got[k++] = tracker.latencies[i];
      sum += tracker.latencies[i];
    }
    got.sort();
    result.latencyMs = {
      p50: percentile(got, 0.5),
      p90: percentile(got, 0.9),
      p99: percentile(got, 0.99),
      max: got.length ? got[got.length - 1] : NaN,
      mean: got.length ? sum / got.length : NaN,
    };
    await withTimeout(variant.stop(), 30_000, `${variant.name} stop`).catch((e) =>
      log.warn({ err: e }, 'stop'),
    );
  }
  if (result.completed) {
    progress(
      `[${variant.name}] ${Math.round(result.msgsPerSec)} msgs/s, p50 ${result.latencyMs.p50.toFixed(1)} ms, ` +
        `p99 ${result.latencyMs.p99.toFixed(1)} ms, ${result.cpuUsPerMsg.toFixed(1)} µs CPU/msg`,
    );
  }
  return result;
}

/** The variant's result in the JSON report's shape (rounded; p50Ms/p99Ms at top level). */
export function reportOf(r: VariantResult) {
  return {
    ...r,
    durationMs: round(r.durationMs),
    msgsPerSec: round(r.msgsPerSec, 0),
    produceMs: round(r.produceMs),
    produceMsgsPerSec: round(r.produceMsgsPerSec, 0),
    joinMs: round(r.joinMs, 0),
    cpuUsPerMsg: round(r.cpuUsPerMsg, 1),
    p50Ms: round(r.latencyMs.p50, 2),
    p99Ms: round(r.latencyMs.p99, 2),
    latencyMs: Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [k, round(v, 2)])),
  };
}

// ---------------------------------------------------------------------------------------------------
// Printing

function fmt(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || !Number.isFinite(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function printTable(results: VariantResult[], relativeTo?: VariantResult): void {
  const header = ['variant', 'msgs/s (e2e)', 'produce msgs/s', 'p50 ms', 'p99 ms', 'CPU µs/msg', 'dups'];
  if (relativeTo) header.push('× base');
  const rows = results.map((r) => {
    const row = [
      r.variant,
      r.completed ? fmt(r.msgsPerSec) : `FAILED (${r.received}/${r.messages})`,
      fmt(r.produceMsgsPerSec),
      fmt(r.latencyMs.p50, 1),
      fmt(r.latencyMs.p99, 1),
      fmt(r.cpuUsPerMsg, 1),
      String(r.duplicates),
    ];
    if (relativeTo) row.push(fmt(r.msgsPerSec / relativeTo.msgsPerSec, 2));
    return row;
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function median(values: number[]): number {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Several rounds of one variant → one row: the median of every figure; completed only if all were. */
export function summarize(variant: string, rounds: VariantResult[]): VariantResult {
  const m = (f: (r: VariantResult) => number) => median(rounds.map(f));
  const failed =
    rounds.length === 0 ? { error: 'not run (an earlier round failed)' } : rounds.find((r) => !r.completed);
  return {
    variant,
    description: rounds[0]?.description ?? '',
    completed: !failed,
    ...(failed ? { error: failed.error } : {}),
    messages: config.messages,
    received: rounds.length ? Math.min(...rounds.map((r) => r.received)) : 0,
    duplicates: rounds.reduce((n, r) => n + r.duplicates, 0),
    durationMs: m((r) => r.durationMs),
    msgsPerSec: failed ? NaN : m((r) => r.msgsPerSec),
    produceMs: m((r) => r.produceMs),
    produceMsgsPerSec: m((r) => r.produceMsgsPerSec),
    latencyMs: {
      p50: m((r) => r.latencyMs.p50),
      p90: m((r) => r.latencyMs.p90),
      p99: m((r) => r.latencyMs.p99),
      max: m((r) => r.latencyMs.max),
      mean: m((r) => r.latencyMs.mean),
    },
    joinMs: m((r) => r.joinMs),
    cpuUsPerMsg: m((r) => r.cpuUsPerMsg),
  };
}

// ---------------------------------------------------------------------------------------------------
// Cleanup (topics + their .dlq twins + consumer groups of this run) and the hard stop

const ownTopics = new Set<string>();
const ownGroups = new Set<string>();
let cleanedUp: Promise<void> | undefined;

export function registerForCleanup(topic: string, groupId: string): void {
  ownTopics.add(topic);
  ownTopics.add(`${topic}.dlq`);
  ownGroups.add(groupId);
}

export function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    if (ownTopics.size === 0) return;
    const kafka = new Kafka({
      clientId: `bench-cleanup-${RUN_ID}`,
      brokers: config.brokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), 10_000, 'cleanup connect');
      const existing = new Set(await admin.listTopics());
      const doomed = [...ownTopics].filter((t) => existing.has(t));
      if (doomed.length > 0)
        await withTimeout(admin.deleteTopics({ topics: doomed, timeout: 15_000 }), 20_000, 'deleteTopics');
      await withTimeout(admin.deleteGroups([...ownGroups]), 10_000, 'deleteGroups').catch(() => undefined);
      progress(
        `cleanup: deleted ${doomed.length} topic(s) and ${ownGroups.size} consumer group(s) of run ${RUN_ID}`,
      );
    } catch (error) {
      progress(
        `cleanup FAILED — delete by hand: ${[...ownTopics].join(', ')}: ${error instanceof Error ? error.message : error}`,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  })();
  return cleanedUp;
}

/** Fails fast, with a hint, when the broker is not there (instead of minutes of kafkajs retries). */
export async function preflight(): Promise<void> {
  const kafka = new Kafka({
    clientId: `bench-preflight-${RUN_ID}`,
    brokers: config.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 2, initialRetryTime: 300 },
  });
  const admin = kafka.admin();
  try {
    await withTimeout(
      admin.connect().then(() => admin.listTopics()),
      15_000,
      'connecting to the broker',
    );
  } catch (error) {
    throw new Error(
      `Kafka broker not reachable at ${config.brokers.join(',')} (${error instanceof Error ? error.message : error}). ` +
        'Start the local infrastructure with `npm run infra:up`.',
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Runs main (which resolves to the exit code) with a watchdog and signal handling, and always
 * cleans up. Exit 1 means the benchmark could not measure, never that a target was missed.
 */
export function runMain(main: () => Promise<number>): void {
  const hardStop = (code: number) =>
    void withTimeout(cleanup(), 30_000, 'cleanup')
      .catch(() => undefined)
      .finally(() => process.exit(code));
  const watchdog = setTimeout(() => {
    progress(`watchdog: run exceeded BENCH_TIMEOUT_MS=${config.totalTimeoutMs} ms, cleaning up and exiting`);
    hardStop(1);
  }, config.totalTimeoutMs);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: cleaning up`);
      hardStop(130);
    });
  }
  main()
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    })
    .catch((error) => {
      progress(`bench could not run: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      hardStop(1);
    });
}
