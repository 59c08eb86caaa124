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
