import { z } from 'zod';
import type { TopicDefinition } from './topic';

/**
 * The one envelope around every event on every topic. Consumers parse it (and then the payload
 * with the event's own schema) before they act — nothing crosses a service boundary as `any`.
 */
export const EnvelopeSchema = z.object({
  /** UUIDv7: unique, and sortable by creation time. Consumers derive effect ids from it. */
  eventId: z.string().uuid(),
  /** Event type, e.g. `registry.elder.registered`. */
  type: z.string().min(1),
  /** Payload schema version within this type; additive changes keep it. */
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  /** The producing service, e.g. `registry`. */
  producer: z.string().min(1),
  /** The Kafka message key (the aggregate id) — per-key ordering is the only ordering we promise. */
  key: z.string().min(1),
  /** The request or flow this event belongs to; carried unchanged from event to event. */
  correlationId: z.string().min(1),
  /** The eventId (or request id) that directly caused this event; null for a flow's first event. */
  causationId: z.string().min(1).nullable(),
  payload: z.unknown(),
});

export type Envelope<P = unknown> = Omit<z.infer<typeof EnvelopeSchema>, 'payload'> & { payload: P };

/** An event type that a producer publishes: where it goes, what it is called, what it carries. */
export interface EventDefinition<P = unknown> {
  readonly topic: TopicDefinition;
  readonly type: string;
  readonly version: number;
  readonly payload: z.ZodType<P>;
}

export function defineEvent<P>(definition: EventDefinition<P>): EventDefinition<P> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(definition.type)) {
    throw new Error(`Event type "${definition.type}" must be dotted lower-case, e.g. registry.elder.registered`);
  }
  return Object.freeze({ ...definition });
}

export type PayloadOf<E> = E extends EventDefinition<infer P> ? P : never;
