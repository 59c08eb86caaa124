import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CORRELATION_HEADER = 'x-correlation-id';
const ID = Symbol('yiyang:correlation-id');

/**
 * The request's correlation id: the caller's (the gateway sets one) when it looks sane, else a new
 * one. Cached on the raw request so Fastify's request id, the access log and every event the
 * request causes all carry the same id.
 */
export function correlationIdOf(req: IncomingMessage): string {
  const holder = req as IncomingMessage & { [ID]?: string };
  if (holder[ID]) return holder[ID];
  const incoming = req.headers[CORRELATION_HEADER];
  holder[ID] = typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  return holder[ID];
}
