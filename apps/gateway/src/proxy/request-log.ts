import { Logger, RequestMethod } from '@nestjs/common';
import type { RouteInfo } from '@nestjs/common/interfaces';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import { INTERNAL_TO_PUBLIC, ownerOfPublicUrl, SEGMENTS, UPSTREAMS, type Upstream } from './routing';

/**
 * The forwarded routes' request log. The service kit's per-request access log (pino-http through
 * Nest's middleware runner: a child logger per request, the request serialised into its bindings,
 * three listeners on the response, an AsyncLocalStorage scope) was ~10 % of the gateway's CPU on a
 * forwarded read, and at the usual LOG_LEVEL=info it writes one line per request on top. For
 * forwarded routes it is replaced by:
 *  - one line per request that was refused or failed (status ≥ 400: 401/403/404/429, the services'
 *    4xx, every 5xx) or slow (≥ SLOW_REQUEST_MS), with the correlation id, user, method, path,
 *    status, service and time — the requests someone looks for in a log;
 *  - a latency histogram per service, method and status class on /metrics
 *    (`gateway_forwarded_request_duration_seconds`) — volumes and latencies of everything, fast and
 *    successful included;
 *  - the audit log (unchanged): every forwarded write and every unmasked read, before this.
 * The gateway's own routes (auth, users, audit, me, docs) keep the service kit's access log.
 */
export const SLOW_REQUEST_MS = 1_000;

/** Every public path a service owns: `/api/v1/<segment>` and below (Nest exclusion syntax). */
export const FORWARDED_ROUTES: RouteInfo[] = UPSTREAMS.flatMap((service) =>
  SEGMENTS[service].map((segment) => ({ path: `api/v1/${INTERNAL_TO_PUBLIC[service]?.[segment] ?? segment}{/*rest}`, method: RequestMethod.ALL })),
);

const duration = new Histogram({
  name: 'gateway_forwarded_request_duration_seconds',
  help: 'Requests the gateway forwarded (or refused) on public service routes, by owning service, method and status class',
  labelNames: ['service', 'method', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});
/** Label children cached by key: a histogram lookup by labels hashes them on every call. */
const children = new Map<string, ReturnType<typeof duration.labels>>();
const STATUS_CLASS = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

const log = new Logger('Request');

/**
 * onResponse hook of the forwarding route. Paths of no service (`/api/v1/nothing`) are not excluded
 * from the access log (FORWARDED_ROUTES), so they are left to it.
 */
export function logForwarded(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const service = ownerOfPublicUrl(req.url);
  if (service) recordForwarded(service, req.method, reply.statusCode, reply.elapsedTime, req.url, String(req.id), req.signedIn?.userId, req.ip);
  done();
}

/** Counts one forwarded request in the histogram and logs it when it was refused, failed or slow (both request paths). */
export function recordForwarded(service: Upstream, method: string, status: number, ms: number, url: string, correlationId: string, userId: string | undefined, ip: string): void {
  const key = `${service} ${method} ${(status / 100) | 0}`;
  let child = children.get(key);
  if (!child) {
    child = duration.labels(service, method, STATUS_CLASS[(status / 100) | 0] ?? '5xx');
    children.set(key, child);
  }
  child.observe(ms / 1000);
  if (status >= 400 || ms >= SLOW_REQUEST_MS) {
    // Flat fields: `req`/`res` would go through pino-http's serializers, which expect Node's objects.
    const entry = { correlationId, userId, method, path: url.split('?')[0], status, upstream: service, ip, responseTime: Math.round(ms) };
    if (status >= 500) log.error(entry, 'request errored');
    else log.log(entry, status >= 400 ? 'request refused' : 'slow request');
  }
}
