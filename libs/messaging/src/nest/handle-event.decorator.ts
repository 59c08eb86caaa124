import { SetMetadata } from '@nestjs/common';
import type { EventDefinition } from '@yiyang/contracts';

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
