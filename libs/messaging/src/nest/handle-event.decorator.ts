import { SetMetadata } from '@nestjs/common';
import type { EventDefinition } from '@yiyang/contracts';
import type { ConsumerTuning } from '../handlers';

export const HANDLE_EVENT = Symbol('yiyang:handle-event');

export interface HandleEventOptions {
  /** Consumer-group suffix. Handlers of one group share offsets; a slow group cannot hold up another. */
  group?: string;
}

export interface HandleEventMetadata {
  event: EventDefinition<unknown>;
  group: string;
}

/**
 * Marks a provider method as the handler of one event type:
 *
 *   @HandleEvent(ElderRegistered)
 *   async onElderRegistered(payload: PayloadOf<typeof ElderRegistered>, ctx: EventContext) { … }
 *
 * The messaging module finds these at start-up, subscribes, parses, retries and dead-letters.
 */
export const HandleEvent = <P>(event: EventDefinition<P>, options: HandleEventOptions = {}): MethodDecorator =>
  SetMetadata<symbol, HandleEventMetadata[]>(HANDLE_EVENT, [
    { event: event as EventDefinition<unknown>, group: options.group ?? 'main' },
  ]);

export const HANDLE_EVENT_BATCH = Symbol('yiyang:handle-event-batch');

export interface HandleEventBatchOptions {
  /** Consumer-group suffix. A batch handler must be the only handler of its topic in its group. */
  group?: string;
  /** Largest number of records per call (a bigger fetched batch is cut into slices). Default: the whole fetch. */
  maxBatchSize?: number;
  /** Fetch and group settings of this handler's consumer group (merged over the group's handlers). */
  consumer?: ConsumerTuning;
  /** A precompiled payload check that may stand in for the zod walk (BatchHandlerRegistration.payloadGuard). */
  payloadGuard?: (payload: unknown) => boolean;
}

export interface HandleEventBatchMetadata {
  events: EventDefinition<unknown>[];
  group: string;
  maxBatchSize?: number;
  consumer?: ConsumerTuning;
  payloadGuard?: (payload: unknown) => boolean;
}

/**
 * Marks a provider method as the batch handler of one or more event types of one topic:
 *
 *   @HandleEventBatch(TelemetryReadings, { group: 'rules', maxBatchSize: 2_000 })
 *   async onReadings(batch: EventBatch<PayloadOf<typeof TelemetryReadings>>) { … }
 *
 * The handler gets a partition's parsed records in order. Schema violations were already
 * dead-lettered; offsets are resolved only after the handler returned; a failing batch is retried
 * with back-off and then handled record by record, so a poison record is dead-lettered alone. The
 * handler must be idempotent — a batch may be delivered again, in whole or in part.
 */
export const HandleEventBatch = <P>(
  events: EventDefinition<P> | EventDefinition<P>[],
  options: HandleEventBatchOptions = {},
): MethodDecorator =>
  SetMetadata<symbol, HandleEventBatchMetadata>(HANDLE_EVENT_BATCH, {
    events: (Array.isArray(events) ? events : [events]) as EventDefinition<unknown>[],
    group: options.group ?? 'main',
    maxBatchSize: options.maxBatchSize,
    consumer: options.consumer,
    payloadGuard: options.payloadGuard,
  });
