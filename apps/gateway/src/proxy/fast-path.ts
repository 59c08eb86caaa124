import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { correlationIdOf, CORRELATION_HEADER } from '@yiyang/service-kit';
import type { Dispatcher } from 'undici';
import { UNKNOWN, type Authenticator } from '../access/authenticator';
import { isRateLimited, pushRateLimitHeaders, RATE_DECISION, type RateDecision, type RateLimits, type WithRateDecision } from '../http/rate-limit';
import { SECURITY_HEADER_LIST } from '../http/security-headers';
import { appErrorBody, forwardHeaders, isIdempotent, JSON_CONTENT_TYPE, MAX_ERROR_BODY, publicErrorPayload, returnedHeaders, SMALL_BODY, upstreamFailure, UPSTREAM_RETRY_AFTER } from './forwarding';
import { recordForwarded } from './request-log';
import { authorise } from './route-matrix';
import { resolveRoute, type Route } from './routing';
import { retryDelay, type Upstreams } from './upstreams';

/**
 * The direct read path: the gateway's most common request — an authenticated GET of a service's
 * resource by a caller whose token and session are already known — served straight from Node's
 * request event, in front of Fastify and Nest. On a forwarded read Fastify's request and reply
 * objects, its hook chain, Nest's middleware runner and undici's response stream and promise cost
 * as much as the forwarding itself (bench/gateway README); this path does the same work without
 * them, calling the very functions the Fastify path calls for every rule:
 *
 *   authentication   Authenticator.authenticateKnown (verified-token and session caches)
 *   authorisation    route-matrix `authorise` on `resolveRoute` (path tricks refused the same way)
 *   rate limit       RateLimits.hit (per user), x-ratelimit-* headers
 *   forwarding       forwardHeaders / Authenticator.internalTokenFor, the same undici Pool (pipelined
 *                    under load: Upstreams.dispatchRead), the same retry rule (retryDelay) and
 *                    timeouts, returnedHeaders (Location rewritten)
 *   errors           upstreamFailure (503/504 + Retry-After), publicErrorPayload for the service's
 *                    4xx/5xx bodies (the onSend hook's rewrite), in the caller's language
 *   headers          SECURITY_HEADER_LIST, x-correlation-id (correlationIdOf), and when CORS origins
 *                    are configured what @fastify/cors adds without an Origin (corsHeadersWithoutOrigin)
 *   request log      recordForwarded (histogram; refused, failed and slow requests logged)
 *
 * It takes a request only when none of the rules would refuse it or need more than this: anything
 * else — other methods, bodies, an Origin header (CORS), `reveal` (audited reads), a token or session
 * not in the caches, a refused route or role, a caller over the rate limit, unusual characters in the
 * path, forwarded-for headers behind a trusted proxy — goes to Fastify untouched, where the same
 * rules answer it (a rate decision already taken travels with the request, so nothing is counted
 * twice). Nothing is written to the response before the request is known to be taken.
 */
export interface FastPathOptions {
  authenticator: Authenticator;
  upstreams: Upstreams;
  limits: RateLimits;
  /** What @fastify/cors adds to an answer for a request without an Origin header (http/cors.ts). */
  corsHeaders: readonly string[];
  /** TRUST_PROXY is set: requests naming a forwarded client go to Fastify, which resolves them. */
  trustProxy: boolean;
}

/** Path characters taken directly (RFC 3986 pchar without percent-encoding); anything else goes to Fastify's URL handling. */
const PLAIN_PATH = /^\/api\/v1\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const MAX_URL = 2_048;

export class FastPath {
  /** Off: every request goes through Fastify (tests compare both paths). */
  enabled = true;
  /** Requests this path answered (tests check it took them). */
  taken = 0;
  readonly log = new Logger('Proxy');
  private readonly baseHeaders: readonly string[];

  constructor(readonly options: FastPathOptions) {
    // A plain array: slicing the frozen table per request was 15 times slower (dictionary elements).
    this.baseHeaders = [...SECURITY_HEADER_LIST, ...options.corsHeaders];
  }

  /** Answers the request and returns true, or returns false having touched nothing. */
  take(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.enabled || req.method !== 'GET') return false;
    const url = req.url as string;
    if (url.length > MAX_URL || !url.startsWith('/api/v1/')) return false;
    const h = req.headers;
    if (h.origin !== undefined || h['content-length'] !== undefined || h['transfer-encoding'] !== undefined) return false;
    if (this.options.trustProxy && (h['x-forwarded-for'] !== undefined || h['x-forwarded-proto'] !== undefined || h['x-forwarded-host'] !== undefined)) return false;
    const q = url.indexOf('?');
    if (!PLAIN_PATH.test(q === -1 ? url : url.slice(0, q))) return false;
    // `reveal` asks for unmasked personal data: role check and audit entry on the Fastify path.
    if (q !== -1 && url.includes('reveal', q)) return false;
    const auth = this.options.authenticator.authenticateKnown(h.authorization);
    if (auth === UNKNOWN || !auth || !auth.ok) return false;
    const route = resolveRoute(url);
    if (!route) return false;
    const { signedIn } = auth;
    const decision = authorise(signedIn.principal.role, 'GET', route.segments);
    if (!decision.allowed || decision.rule.anonymous) return false;
    const ip = req.socket.remoteAddress ?? '';
    if (!isRateLimited(url)) return false;
    const rate = this.options.limits.hit(signedIn, ip);
    if (rate.exceeded) {
      (req as WithRateDecision)[RATE_DECISION] = rate;
      return false;
    }

    this.taken++;
    const correlationId = correlationIdOf(req);
    const token = this.options.authenticator.internalTokenFor(h.authorization as string, signedIn.principal);
    const options: Dispatcher.DispatchOptions = {
      method: 'GET',
      path: route.internalUrl,
      headers: forwardHeaders(h, token, correlationId, ip, 'http'),
      headersTimeout: this.options.upstreams.timeoutMs,
      bodyTimeout: this.options.upstreams.timeoutMs,
    };
    const read = new DirectRead(this, req, res, route, options, correlationId, signedIn.userId, ip, rate, isIdempotent('GET', h));
    this.options.upstreams.dispatchRead(route.service, options, read);
    return true;
  }

  /** The headers every answer of this path carries, as one flat [name, value, …] list. */
  head(correlationId: string, rate: RateDecision): (string | string[])[] {
    const head: (string | string[])[] = this.baseHeaders.slice();
    head.push(CORRELATION_HEADER, correlationId);
    pushRateLimitHeaders(head, rate);
    return head;
  }
}

type Mode = 'buffer' | 'stream' | 'error';

/** The whole answer in one call: a string body (the body's bytes as latin1) is joined to the head by Node, so the socket gets one buffer fewer. */
function sendAll(res: ServerResponse, latin1Body: string): void {
  res.end(latin1Body, 'latin1');
}

/** One forwarded read: undici's dispatch handler writing the service's answer to the caller. */
class DirectRead implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private answered = false;
  private attempt = 0;
  private status = 0;
  private mode: Mode = 'buffer';
  private upstreamHeaders: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private abortUpstream?: (reason?: Error) => void;
  private resume?: () => void;
  private finished = false;

  constructor(
    private readonly path: FastPath,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: Route,
    private readonly options: Dispatcher.DispatchOptions,
    private readonly correlationId: string,
    private readonly userId: string,
    private readonly ip: string,
    private readonly rate: RateDecision,
    private readonly retryable: boolean,
  ) {}

  onConnect(abort: (reason?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null, resume: () => void): boolean {
    this.answered = true;
    this.status = statusCode;
    this.resume = resume;
    const headers = this.upstreamHeaders;
    if (rawHeaders) {
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i].toString('latin1').toLowerCase();
        if (headers[name] === undefined) headers[name] = rawHeaders[i + 1].toString('latin1');
      }
    }
    if (statusCode >= 400) {
      this.mode = 'error';
      return true;
    }
    const length = Number(headers['content-length'] ?? -1);
    if ((headers['content-type'] ?? '').startsWith('application/json') && length >= 0 && length < SMALL_BODY) {
      this.mode = 'buffer';
      return true;
    }
    // Files and large answers (exports, roster templates) stream through with back-pressure.
    this.mode = 'stream';
    this.res.writeHead(statusCode, this.successHead());
    this.res.once('close', () => {
      if (!this.finished) this.abortUpstream?.(new Error('the caller went away'));
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.mode === 'stream') {
      if (this.res.write(chunk)) return true;
      this.res.once('drain', () => this.resume?.());
      return false;
    }
    if (this.mode === 'error' && this.size + chunk.length > MAX_ERROR_BODY) return true; // the rest is dropped, as on the Fastify path
    this.size += chunk.length;
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.path.options.upstreams.readEnded(this.route.service);
    this.finished = true;
    if (this.mode === 'stream') this.res.end();
    else if (this.mode === 'buffer') {
      const head = this.successHead();
      this.res.writeHead(this.status, head);
      sendAll(this.res, (this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)).toString('latin1'));
    } else {
      if (this.status >= 500) this.path.log.warn({ service: this.route.service, status: this.status, correlationId: this.correlationId }, 'upstream error');
      const text = Buffer.concat(this.chunks).toString('utf8');
      const extra = this.upstreamHeaders['retry-after'] !== undefined ? ['retry-after', this.upstreamHeaders['retry-after']] : [];
      this.sendError(this.status, text || '{}', extra);
    }
    this.record();
  }

  onError(error: Error): void {
    this.path.options.upstreams.readEnded(this.route.service);
    if (!this.answered) {
      const delay = this.retryable ? retryDelay(error, this.attempt) : undefined;
      if (delay !== undefined) {
        this.attempt++;
        setTimeout(() => this.path.options.upstreams.dispatchRead(this.route.service, this.options, this), delay);
        return;
      }
    }
    this.finished = true;
    if (this.res.headersSent || this.res.destroyed) {
      this.res.destroy(error);
    } else {
      const failure = upstreamFailure(this.route, error);
      this.path.log.warn({ service: this.route.service, code: (error as { code?: string }).code, correlationId: this.correlationId }, `upstream ${failure.status === 504 ? 'timeout' : 'unavailable'}`);
      this.sendError(failure.status, appErrorBody(failure), ['retry-after', UPSTREAM_RETRY_AFTER]);
    }
    this.record();
  }

  private successHead(): (string | string[])[] {
    const head = this.path.head(this.correlationId, this.rate);
    for (const [name, value] of returnedHeaders(this.route, this.upstreamHeaders)) head.push(name, value);
    return head;
  }

  private sendError(status: number, errorBody: string, extra: string[]): void {
    const payload = publicErrorPayload(status, errorBody, this.req.headers['accept-language'], this.correlationId);
    const head = this.path.head(this.correlationId, this.rate);
    const bytes = Buffer.from(payload, 'utf8').toString('latin1');
    head.push('content-type', JSON_CONTENT_TYPE, 'content-length', String(bytes.length), ...extra);
    this.res.writeHead(status, head);
    sendAll(this.res, bytes);
  }

  private record(): void {
    recordForwarded(this.route.service, 'GET', this.res.statusCode, performance.now() - this.started, this.req.url as string, this.correlationId, this.userId, this.ip);
  }
}
