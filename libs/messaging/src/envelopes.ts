import { v7 as uuidv7 } from 'uuid';
import type { Envelope, EventDefinition } from '@yiyang/contracts';

export interface NewEvent<P> {
  key: string;
  payload: P;
  /** Carry the request's or the incoming event's correlation id; a new flow gets a fresh one. */
  correlationId?: string;
  /** The eventId or request id that caused this event. */
  causationId?: string | null;
  occurredAt?: Date;
}

/**
 * Builds an envelope, validating the payload against the producer's own schema first: a producer
 * that cannot satisfy its contract fails at the write, not in some consumer hours later.
 */
export function newEnvelope<P>(producer: string, definition: EventDefinition<P>, event: NewEvent<P>): Envelope<P> {
  const parsed = definition.payload.safeParse(event.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `Event ${definition.type} payload invalid at "${issue.path.join('.') || '(root)'}": ${issue.message}`,
    );
  }
  const eventId = uuidv7();
  return {
    eventId,
    type: definition.type,
    version: definition.version,
    occurredAt: (event.occurredAt ?? new Date()).toISOString(),
    producer,
    key: event.key,
    correlationId: event.correlationId ?? eventId,
    causationId: event.causationId ?? null,
    payload: parsed.data,
  };
}

/**
 * The one header a record carries besides its JSON envelope: the event type, so a consumer or an
 * operator's tool can route or filter without parsing. Ids and correlation live in the envelope
 * only — kafkajs encodes every header into its own buffer, and four headers were half of the
 * backbone's per-message cost in bench/messaging.
 */
export function envelopeHeaders(type: string): Record<string, string> {
  return { 'yiyang-event-type': type };
}
