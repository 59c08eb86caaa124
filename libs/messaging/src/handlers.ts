import type { Envelope, EventDefinition } from '@yiyang/contracts';
import type { Logger } from 'pino';
import type { NewEvent } from './envelopes';

export interface EventContext {
  envelope: Envelope;
  topic: string;
  partition: number;
  offset: string;
  /** 1 for the first try; a handler must give the same effect on every attempt. */
  attempt: number;
  /** Logger bound to this event's correlation and event ids. */
  log: Logger;
  /**
   * A follow-up event caused by this one: it keeps the correlation id and names this event as its
   * cause, so a flow can be traced end to end across services.
   */
  follow<Q>(definition: EventDefinition<Q>, event: Omit<NewEvent<Q>, 'correlationId' | 'causationId'>): Envelope<Q>;
}

export type EventHandlerFn<P> = (payload: P, context: EventContext) => Promise<void>;

export interface HandlerRegistration<P = unknown> {
  event: EventDefinition<P>;
  handler: EventHandlerFn<P>;
  /** Consumer-group suffix; handlers in different groups progress independently. Default `main`. */
  group: string;
  /** Name used in logs and metrics, e.g. `ElderProjection.onRegistered`. */
  name: string;
}

/** One event of a batch, in partition order. */
export interface BatchEvent<P = unknown> {
  payload: P;
  envelope: Envelope;
  /** The record's offset in its partition. */
  offset: string;
}

/**
 * Everything a batch handler is given: the parsed events of one partition, in order, with the
 * position they occupy. Records that broke their contract were dead-lettered before the handler
 * is called and are not in `events`; other event types on the topic are skipped, as for
 * per-message handlers.
 */
export interface EventBatch<P = unknown> {
  topic: string;
  partition: number;
  events: BatchEvent<P>[];
  /** Offsets of the first and last record this call covers (dead-lettered and skipped ones included). */
  firstOffset: string;
  lastOffset: string;
  /** The partition's end when the records were fetched: `highWatermark - lastOffset - 1` is the lag behind. */
  highWatermark: string;
  /**
   * 1 for the first try of the whole batch. When the batch keeps failing, the events are offered one
   * at a time (`events.length === 1`) so a poison record is dead-lettered alone; `attempt` then
   * counts that record's tries.
   */
  attempt: number;
  /** True once the batch has been split into single events after repeated failures. */
  isolated: boolean;
  log: Logger;
  /** Keeps the consumer's group membership alive; call it in long loops. */
  heartbeat(): Promise<void>;
  /** A follow-up event caused by `cause` (keeps its correlation id, names it as the cause). */
  follow<Q>(cause: Envelope, definition: EventDefinition<Q>, event: Omit<NewEvent<Q>, 'correlationId' | 'causationId'>): Envelope<Q>;
}

export type EventBatchHandlerFn<P> = (batch: EventBatch<P>) => Promise<void>;

/** Kafka consumer settings a group may tune for throughput (kafkajs names and meanings). */
export interface ConsumerTuning {
  /** Partitions worked on at once; each is still handled strictly in order. Default 3. */
  partitionsConsumedConcurrently?: number;
  /** Upper bound of bytes fetched per partition per request. kafkajs default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Upper bound of bytes per fetch response. kafkajs default 10 MiB. */
  maxBytes?: number;
  /** The broker answers a fetch once it has this many bytes… */
  minBytes?: number;
  /** …or this much time passed. kafkajs default 5,000 ms. */
  maxWaitTimeInMs?: number;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /** A new group starts at the earliest offset (default true: read models see the whole history). */
  fromBeginning?: boolean;
}

export interface BatchHandlerRegistration<P = unknown> {
  /** The event types this handler receives, all on one topic. */
  events: EventDefinition<P>[];
  handler: EventBatchHandlerFn<P>;
  group: string;
  name: string;
  /** Largest number of records per handler call; a larger fetched batch is cut into slices. Default: no limit. */
  maxBatchSize?: number;
  /**
   * A precompiled check of the payload, for a hot topic whose producer the handler's owner controls
   * (it validated what it wrote). True ⇒ the payload is handed over as parsed from JSON, without the
   * zod walk and copy; it must therefore only ever accept what the events' schemas accept (unknown
   * extra fields are passed through, not stripped). False ⇒ the zod schema decides as usual, so
   * garbage is still dead-lettered with zod's message. Default: zod only.
   */
  payloadGuard?: (payload: unknown) => boolean;
}
