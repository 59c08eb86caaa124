import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { EnvelopeSchema, type Envelope } from '@yiyang/contracts';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import { deadLetterRecord } from './dead-letter';
import { newEnvelope } from './envelopes';
import type { BatchEvent, BatchHandlerRegistration, ConsumerTuning, EventBatch, EventContext, HandlerRegistration } from './handlers';
import { messagingMetrics } from './metrics';
import { DEFAULT_RETRY, type RetryPolicy } from './options';
import type { EventPublisher } from './publisher';

export interface EventConsumerOptions {
  groupId: string;
  service: string;
  registrations: readonly HandlerRegistration[];
  /** Handlers that take a partition's records as one batch (at most one per topic, see HandleEventBatch). */
  batchRegistrations?: readonly BatchHandlerRegistration[];
  retry?: Partial<RetryPolicy>;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  /** Fetch and group settings; wins over the two fields above. */
  tuning?: ConsumerTuning;
}

interface BatchRoute {
  registration: BatchHandlerRegistration;
  byType: Map<string, PayloadCheck>;
}

type Parsed =
  | { ok: true; envelope: Envelope; registrations: HandlerRegistration[]; payload: unknown }
  | { ok: false; error: string }
  | { ok: 'skip' };

class StoppedError extends Error {}

// The envelope check, precompiled. Every record on every topic pays it, and zod's general-purpose
// object walk (plus the copy it returns) was a fifth of the telemetry rule engine's CPU
// (bench/telemetry, `node --cpu-prof`). `fastEnvelope` checks exactly what `EnvelopeSchema` checks —
// the two string formats with zod's own patterns, taken from the schema — and builds the same
// stripped object. It only ever says "valid"; anything it does not accept goes through zod, which
// decides and words the error, so what is accepted, rejected and reported is unchanged.
const formatPattern = (schema: unknown): RegExp | undefined => {
  const def = (schema as { _zod?: { def?: { pattern?: unknown; checks?: { _zod?: { def?: { pattern?: unknown } } }[] } } })._zod?.def;
  const pattern = def?.pattern ?? def?.checks?.[0]?._zod?.def?.pattern;
  return pattern instanceof RegExp && !pattern.global && !pattern.sticky ? pattern : undefined;
};
const UUID = formatPattern(EnvelopeSchema.shape.eventId);
const DATETIME = formatPattern(EnvelopeSchema.shape.occurredAt);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function fastEnvelope(json: unknown): Envelope | undefined {
  if (!UUID || !DATETIME || typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const j = json as Record<string, unknown>;
  const { eventId, type, version, occurredAt, producer, key, correlationId, causationId } = j;
  if (typeof eventId !== 'string' || !UUID.test(eventId)) return undefined;
  if (!nonEmpty(type) || !nonEmpty(producer) || !nonEmpty(key) || !nonEmpty(correlationId)) return undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version <= 0) return undefined;
  if (typeof occurredAt !== 'string' || !DATETIME.test(occurredAt)) return undefined;
  if (causationId !== null && !nonEmpty(causationId)) return undefined;
  return { eventId, type, version, occurredAt, producer, key, correlationId, causationId, payload: j['payload'] };
}

/**
 * How a consumer checks a payload of one type: its zod schema, and optionally a `guard` — a
 * precompiled check the handler's owner vouches for (see BatchHandlerRegistration.payloadGuard).
 */
export interface PayloadCheck {
  schema: ZodType;
  guard?: (payload: unknown) => boolean;
}

/**
 * JSON → envelope → the payload schema of its type, as `payloadOf` finds it; a type with no schema is
 * skipped. The one parse both the per-record and the batch paths use, so they judge a record alike.
 * A guard that accepts a payload passes it on as parsed from JSON (no zod walk, no copy); one that
 * refuses hands the payload to zod, which accepts or words the error — a guard can make a check
 * cheaper, never stricter.
 */
function readRecord(
  message: KafkaMessage,
  payloadOf: (type: string) => PayloadCheck | undefined,
): { ok: true; envelope: Envelope; payload: unknown } | { ok: false; error: string } | { ok: 'skip' } {
  let json: unknown;
  try {
    json = JSON.parse(message.value?.toString() ?? '');
  } catch {
    return { ok: false, error: 'value is not JSON' };
  }
  let envelope = fastEnvelope(json);
  if (!envelope) {
    const parsed = EnvelopeSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, error: `envelope.${issue.path.join('.')}: ${issue.message}` };
    }
    envelope = parsed.data as Envelope;
  }
  const check = payloadOf(envelope.type);
  if (!check) return { ok: 'skip' };
  if (check.guard?.(envelope.payload)) return { ok: true, envelope, payload: envelope.payload };
  const payload = check.schema.safeParse(envelope.payload);
  if (!payload.success) {
    const issue = payload.error.issues[0];
    return { ok: false, error: `payload.${issue.path.join('.')}: ${issue.message}` };
  }
  return { ok: true, envelope, payload: payload.data };
}

/**
 * One consumer group. Delivery is at-least-once: an offset is resolved only after every handler
 * for the message succeeded or the message was safely in the dead-letter topic, so a crash at any
 * point means redelivery, never loss. Handlers must therefore be idempotent (see idempotency.ts).
 * Within a partition messages are handled strictly one after another — that is the per-key order.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly retry: RetryPolicy;
  private readonly byTopic = new Map<string, Map<string, HandlerRegistration[]>>();
  private readonly batchByTopic = new Map<string, BatchRoute>();
  private readonly tuning: ConsumerTuning;
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly publisher: EventPublisher,
    private readonly log: Logger,
    private readonly options: EventConsumerOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.tuning = {
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      fromBeginning: options.fromBeginning,
      ...stripUndefined(options.tuning ?? {}),
    };
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      ...stripUndefined({
        maxBytesPerPartition: this.tuning.maxBytesPerPartition,
        maxBytes: this.tuning.maxBytes,
        minBytes: this.tuning.minBytes,
        maxWaitTimeInMs: this.tuning.maxWaitTimeInMs,
        sessionTimeout: this.tuning.sessionTimeout,
        heartbeatInterval: this.tuning.heartbeatInterval,
      }),
    });
    for (const r of options.registrations) {
      const types = this.byTopic.get(r.event.topic.name) ?? new Map<string, HandlerRegistration[]>();
      types.set(r.event.type, [...(types.get(r.event.type) ?? []), r]);
      this.byTopic.set(r.event.topic.name, types);
    }
    for (const r of options.batchRegistrations ?? []) {
      const topics = new Set(r.events.map((e) => e.topic.name));
      if (topics.size !== 1) throw new Error(`${r.name}: a batch handler reads one topic, got ${[...topics].join(', ')}`);
      const [topic] = topics;
      // Per-key order holds only if one handler sees a partition's records in one sequence.
      if (this.batchByTopic.has(topic) || this.byTopic.has(topic)) {
        throw new Error(`${r.name}: group ${options.groupId} already handles ${topic}; a batch handler must be the topic's only handler in its group`);
      }
      const guard = r.payloadGuard;
      this.batchByTopic.set(topic, { registration: r, byType: new Map(r.events.map((e) => [e.type, { schema: e.payload, guard }])) });
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys(), ...this.batchByTopic.keys()];
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.tuning.fromBeginning ?? true });
    this.running = true;
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.tuning.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => (this.batchByTopic.has(payload.batch.topic) ? this.handleWholeBatch(payload) : this.handleBatch(payload)),
    });
    this.log.info({ group: this.options.groupId, topics: this.topics }, 'consumer started');
  }

  /** Stops fetching, lets the message in hand finish, commits what was resolved. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload) {
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || !this.running) return;
      try {
        await this.handleMessage(batch.topic, batch.partition, message, heartbeat);
      } catch (error) {
        if (error instanceof StoppedError) return; // not resolved: the next owner gets it again
        throw error; // dead-lettering itself failed: kafkajs restarts from the last resolved offset
      }
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private parse(topic: string, message: KafkaMessage): Parsed {
    // Other event types on a topic we read are someone else's business; skipping them is correct.
    const read = readRecord(message, (type) => {
      const schema = this.byTopic.get(topic)?.get(type)?.[0].event.payload;
      return schema ? { schema } : undefined;
    });
    if (read.ok !== true) return read;
    const registrations = this.byTopic.get(topic)?.get(read.envelope.type) ?? [];
    return { ok: true, envelope: read.envelope, registrations, payload: read.payload };
  }

  private async handleMessage(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>) {
    const parsed = this.parse(topic, message);
    if (parsed.ok === 'skip') {
      messagingMetrics.consumed.inc({ topic, outcome: 'skipped' });
      return;
    }
    if (parsed.ok === false) {
      // Retrying cannot fix a record that breaks its contract: park it at once, keep the partition moving.
      this.log.error({ topic, partition, offset: message.offset, error: parsed.error }, 'schema violation, dead-lettered');
      await this.publisher.send([deadLetterRecord({ topic, partition, message }, 'SCHEMA', parsed.error, 0, this.options.groupId)]);
      messagingMetrics.consumed.inc({ topic, outcome: 'dead_lettered' });
      return;
    }

    const { envelope, registrations, payload } = parsed;
    // Most messages log nothing: the event-bound child logger is made on first use, not per message
    // (it showed up in bench/messaging as a measurable share of the per-message cost).
    let bound: Logger | undefined;
    const eventLog = () =>
      (bound ??= this.log.child({ correlationId: envelope.correlationId, eventId: envelope.eventId, type: envelope.type }));
    for (let attempt = 1; ; attempt++) {
      const context: EventContext = {
        envelope,
        topic,
        partition,
        offset: message.offset,
        attempt,
        get log() {
          return eventLog();
        },
        follow: (definition, event) =>
          newEnvelope(this.options.service, definition, {
            ...event,
            correlationId: envelope.correlationId,
            causationId: envelope.eventId,
          }),
      };
      const timer = messagingMetrics.handlerSeconds.startTimer({ topic });
      try {
        for (const r of registrations) await r.handler(payload, context);
        timer();
        messagingMetrics.consumed.inc({ topic, outcome: 'ok' });
        return;
      } catch (error) {
        timer();
        if (attempt >= this.retry.maxAttempts) {
          eventLog().error({ err: error, attempt, topic, partition, offset: message.offset }, 'handler failed, dead-lettered');
          await this.publisher.send([
            deadLetterRecord({ topic, partition, message }, 'HANDLER', error, attempt, this.options.groupId),
          ]);
          messagingMetrics.consumed.inc({ topic, outcome: 'dead_lettered' });
          return;
        }
        messagingMetrics.retries.inc({ topic });
        eventLog().warn({ err: error, attempt }, 'handler failed, will retry');
        await this.backoff(attempt, heartbeat);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Batch handlers

  /**
   * A fetched batch, sliced to the handler's `maxBatchSize`. Per slice: records that break their
   * contract go to the DLQ first (one send); the rest reach the handler in one call, retried with
   * back-off; only after it succeeded is the slice's last offset resolved. A slice that keeps
   * failing is re-offered one record at a time, so a poison record is dead-lettered alone and the
   * others still take effect — nothing is skipped, nothing is lost.
   */
  private async handleWholeBatch(payload: EachBatchPayload) {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const route = this.batchByTopic.get(batch.topic);
    if (!route) return;
    const size = route.registration.maxBatchSize ?? batch.messages.length;
    for (let start = 0; start < batch.messages.length; start += size) {
      if (!isRunning() || isStale() || !this.running) return;
      const slice = batch.messages.slice(start, start + size);
      try {
        await this.handleSlice(route, batch.topic, batch.partition, batch.highWatermark, slice, heartbeat, resolveOffset);
      } catch (error) {
        if (error instanceof StoppedError) return;
        throw error;
      }
      resolveOffset(slice[slice.length - 1].offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private parseForBatch(route: BatchRoute, message: KafkaMessage): { ok: true; event: BatchEvent } | { ok: false; error: string } | { ok: 'skip' } {
    const read = readRecord(message, (type) => route.byType.get(type));
    if (read.ok !== true) return read;
    return { ok: true, event: { payload: read.payload, envelope: read.envelope, offset: message.offset } };
  }

  private async handleSlice(
    route: BatchRoute,
    topic: string,
    partition: number,
    highWatermark: string,
    slice: KafkaMessage[],
    heartbeat: () => Promise<void>,
    resolveOffset: (offset: string) => void,
  ) {
    const events: BatchEvent[] = [];
    const messages: KafkaMessage[] = [];
    const parked: ReturnType<typeof deadLetterRecord>[] = [];
    let skipped = 0;
    for (const message of slice) {
      const parsed = this.parseForBatch(route, message);
      if (parsed.ok === true) {
        events.push(parsed.event);
        messages.push(message);
      } else if (parsed.ok === 'skip') skipped++;
      else {
        this.log.error({ topic, partition, offset: message.offset, error: parsed.error }, 'schema violation, dead-lettered');
        parked.push(deadLetterRecord({ topic, partition, message }, 'SCHEMA', parsed.error, 0, this.options.groupId));
      }
    }
    if (parked.length > 0) {
      await this.publisher.send(parked);
      messagingMetrics.consumed.inc({ topic, outcome: 'dead_lettered' }, parked.length);
    }
    if (skipped > 0) messagingMetrics.consumed.inc({ topic, outcome: 'skipped' }, skipped);
    if (events.length === 0) return;

    const firstOffset = slice[0].offset;
    const lastOffset = slice[slice.length - 1].offset;
    const call = (list: BatchEvent[], attempt: number, isolated: boolean, first: string, last: string) =>
      this.callBatchHandler(route.registration, { topic, partition, events: list, firstOffset: first, lastOffset: last, highWatermark, attempt, isolated, heartbeat });

    let lastError: unknown;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      try {
        await call(events, attempt, false, firstOffset, lastOffset);
        messagingMetrics.consumed.inc({ topic, outcome: 'ok' }, events.length);
        return;
      } catch (error) {
        lastError = error;
        messagingMetrics.retries.inc({ topic });
        this.log.warn({ err: error, attempt, topic, partition, firstOffset, lastOffset, events: events.length }, 'batch handler failed');
        if (attempt < this.retry.maxAttempts) await this.backoff(attempt, heartbeat);
      }
    }

    // The batch as a whole keeps failing: find the record(s) responsible by handling them one by one.
    this.log.warn({ err: lastError, topic, partition, firstOffset, lastOffset }, 'batch keeps failing, handling its records one at a time');
    for (let i = 0; i < events.length; i++) {
      if (!this.running) throw new StoppedError();
      const event = events[i];
      for (let attempt = 1; ; attempt++) {
        try {
          await call([event], attempt, true, event.offset, event.offset);
          messagingMetrics.consumed.inc({ topic, outcome: 'ok' });
          break;
        } catch (error) {
          if (attempt >= this.retry.maxAttempts) {
            this.log.error({ err: error, attempt, topic, partition, offset: event.offset, eventId: event.envelope.eventId }, 'handler failed, dead-lettered');
            await this.publisher.send([deadLetterRecord({ topic, partition, message: messages[i] }, 'HANDLER', error, attempt, this.options.groupId)]);
            messagingMetrics.consumed.inc({ topic, outcome: 'dead_lettered' });
            break;
          }
          messagingMetrics.retries.inc({ topic });
          await this.backoff(attempt, heartbeat);
        }
      }
      // Progress made one by one is kept even if we are stopped half-way through the slice.
      resolveOffset(event.offset);
    }
  }

  private async callBatchHandler(
    registration: BatchHandlerRegistration,
    fields: Omit<EventBatch, 'log' | 'follow'>,
  ): Promise<void> {
    const service = this.options.service;
    const batch: EventBatch = {
      ...fields,
      log: this.log,
      follow: (cause, definition, event) =>
        newEnvelope(service, definition, { ...event, correlationId: cause.correlationId, causationId: cause.eventId }),
    };
    const timer = messagingMetrics.handlerSeconds.startTimer({ topic: fields.topic });
    try {
      await registration.handler(batch);
    } finally {
      timer();
    }
  }

  private async backoff(attempt: number, heartbeat: () => Promise<void>) {
    const delay = Math.min(this.retry.initialBackoffMs * 2 ** (attempt - 1), this.retry.maxBackoffMs);
    const until = Date.now() + delay;
    while (Date.now() < until) {
      if (!this.running) throw new StoppedError();
      await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
      await heartbeat(); // a long back-off must not look like a dead consumer to the group
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
