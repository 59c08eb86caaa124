import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '@yiyang/service-kit';
import { languageOf, toPublicError } from '../http/problems';
import { publicPathOf, type Route } from './routing';
import { classify } from './upstreams';

/**
 * What a forwarded request carries to its service and what of the service's answer reaches the
 * caller — one definition for both ways a request travels (ProxyService behind Fastify, and the
 * direct read path in fast-path.ts).
 */
export const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'content-type', 'content-length', 'idempotency-key', 'if-match', 'if-none-match', 'user-agent'] as const;
export const RETURNED_RESPONSE_HEADERS = ['content-type', 'content-disposition', 'cache-control', 'etag', 'last-modified', 'retry-after', 'content-length', 'x-total-count'] as const;
/** Answers below this size with a Content-Length (every list and record) are passed on as one buffer; larger ones stream. */
export const SMALL_BODY = 256 * 1024;
/** Error bodies are read up to this size to be rewritten into the public shape. */
export const MAX_ERROR_BODY = 64 * 1024;

/** The headers sent to the service: the internal token for the principal, correlation, the client's address, and the allowed request headers. */
export function forwardHeaders(incoming: IncomingHttpHeaders, internalToken: string, correlationId: string, ip: string, protocol: string): Record<string, string> {
  const h: Record<string, string> = {
    authorization: `Bearer ${internalToken}`,
    'x-correlation-id': correlationId,
    'x-forwarded-for': ip,
    'x-forwarded-proto': protocol,
  };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name];
    if (typeof value === 'string') h[name] = value;
  }
  return h;
}

/** Calls that may be retried after a connection failure: GET, HEAD, PUT, DELETE, and a POST carrying an Idempotency-Key. */
export function isIdempotent(method: string, headers: IncomingHttpHeaders): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'PUT' || method === 'DELETE' || (method === 'POST' && !!headers['idempotency-key']);
}

/** The service's success headers the caller gets, a `Location` rewritten to its public path. */
export function returnedHeaders(route: Route, upstream: Record<string, string | string[] | undefined>): [string, string | string[]][] {
  const out: [string, string | string[]][] = [];
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = upstream[name];
    if (value !== undefined) out.push([name, value]);
  }
  const location = upstream['location'];
  if (typeof location === 'string') out.push(['location', location.startsWith('/') ? (publicPathOf(route.service, location) ?? location) : location]);
  return out;
}

/** 503 (service down) or 504 (no answer in time) for an upstream call that failed; the caller is told to retry after 5 s. */
export function upstreamFailure(route: Route, error: unknown): AppError {
  return classify(error) === 'TIMEOUT'
    ? new AppError('GATEWAY.UPSTREAM_TIMEOUT', 504, `The ${route.service} service did not answer in time`, { messageZh: '服务响应超时，请稍后再试', details: { service: route.service } })
    : new AppError('GATEWAY.SERVICE_UNAVAILABLE', 503, `The ${route.service} service is unavailable; try again shortly`, { messageZh: '服务暂时不可用，请稍后再试', details: { service: route.service } });
}
export const UPSTREAM_RETRY_AFTER = '5';

/** The service-style body of a gateway error (message in both languages; the public shape is made by publicErrorPayload). */
export function appErrorBody(error: AppError): string {
  const { field, messageZh, details } = error.options;
  return JSON.stringify({ code: error.code, message: error.message, messageZh, field, details });
}

/**
 * Any JSON error body (the gateway's own, Fastify's, a service's) → the public error shape
 * `{code, message, field?, details?, correlationId}` in the caller's language.
 */
export function publicErrorPayload(status: number, payload: string, acceptLanguage: string | string[] | undefined, correlationId: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    body = {};
  }
  return JSON.stringify(toPublicError(status, body, languageOf(acceptLanguage), correlationId));
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
