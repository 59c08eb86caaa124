import { defineEvent, type TopicDefinition } from '@yiyang/contracts';
import { z } from 'zod';

export const ChildEvent = (topic: TopicDefinition) =>
  defineEvent({ topic, type: 'test.order.changed', version: 1, payload: z.object({ orderId: z.string(), seq: z.number().int() }) });
