import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Pool, type Dispatcher } from 'undici';
import { UPSTREAM_URL_VARIABLE, UPSTREAMS, type Upstream } from './routing';

export type UpstreamFailure = 'UNAVAILABLE' | 'TIMEOUT';

/** Connection failures that happen before a service could have acted on the request: safe to retry for idempotent calls. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'EPIPE']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function classify(error: unknown): UpstreamFailure {
  const code = (error as { code?: string })?.code ?? '';
  if (TIMEOUT_ERRORS.has(code)) return 'TIMEOUT';
  return 'UNAVAILABLE';
}

/** Pauses before the second and third attempt of a retryable call whose connection failed. */
export const RETRY_DELAYS_MS = [50, 150] as const;

/**
 * The pause before retry number `attempt + 1` of a retryable call that failed with `error`, or
 * undefined when it must not be retried (not a connection failure, or no retries left).
 */
export function retryDelay(error: unknown, attempt: number): number | undefined {
  return attempt < RETRY_DELAYS_MS.length && isConnectFailure(error) ? RETRY_DELAYS_MS[attempt] : undefined;
}

export function isConnectFailure(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return CONNECT_ERRORS.has(code);
}

/**
 * Keep-alive undici pools per service (service URLs from config, localhost 3001–3004 by default):
 *
 *  - `pools`: one request per connection at a time — every method, every route, both request paths.
 *  - `readPools`: HTTP/1.1 pipelining for the direct read path's GETs (proxy/fast-path.ts), used
 *    only while more than UPSTREAM_PIPELINE_ABOVE of those reads are in flight to the service.
 *
 * Why pipelining: at load a forwarded read costs the gateway four socket calls (client read,
 * upstream write, upstream read, client write) and the wake-ups behind them — a large share of its
 * CPU (bench/gateway README). With up
 * to UPSTREAM_READ_PIPELINING reads written on one connection the service (Node's HTTP server, as
 * every service runs on) reads several requests per call: a few per cent less CPU per read in the
 * gateway, 5–10 % in the service (bench A/B, ADR 0010).
 *
 * What it costs, and why only there: answers on a connection come back in order, so a read can wait
 * behind a slower one written before it (head-of-line). Hence
 *  - only idempotent reads (GET) are pipelined — undici never writes a non-idempotent request behind
 *    others, and writes, `reveal` reads and uploads go through `pools` (the Fastify path) anyway;
 *  - below the threshold each read has a connection of its own, so a lightly loaded gateway never
 *    makes one read wait for another; above it the reads would queue for connections anyway;
 *  - a read behind a slow one is not failed for it: undici starts each request's headers timeout
 *    when it reaches the head of its connection, and when the one ahead fails (a 504 after
 *    UPSTREAM_TIMEOUT_MS, a reset) it re-sends the reads written behind it on a new connection;
 *  - the depth is bounded (8 by default): at most seven reads wait behind any one.
 * Each pool opens connections only as needed, up to UPSTREAM_CONNECTIONS.
 */
@Injectable()
export class Upstreams implements OnModuleDestroy {
  readonly pools: Record<Upstream, Pool>;
  readonly readPools: Record<Upstream, Pool> | undefined;
  readonly urls: Record<Upstream, string>;
  readonly timeoutMs: number;
  /** Direct-path reads pipelined only while more than this many are in flight to a service. */
  readonly pipelineAbove: number;
  private readonly readsInFlight = {} as Record<Upstream, number>;

  constructor(config: ConfigService) {
    const connections = Number(config.get('UPSTREAM_CONNECTIONS'));
    this.timeoutMs = Number(config.get('UPSTREAM_TIMEOUT_MS'));
    const readPipelining = Number(config.get('UPSTREAM_READ_PIPELINING'));
    this.pipelineAbove = Number(config.get('UPSTREAM_PIPELINE_ABOVE'));
    this.urls = {} as Record<Upstream, string>;
    this.pools = {} as Record<Upstream, Pool>;
    const readPools = {} as Record<Upstream, Pool>;
    const pool = (url: string, pipelining: number) =>
      new Pool(url, {
        connections,
        pipelining,
        connect: { timeout: 2_000 },
        keepAliveTimeout: 4_000,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    for (const service of UPSTREAMS) {
      const url = String(config.getOrThrow(UPSTREAM_URL_VARIABLE[service]));
      this.urls[service] = url;
      this.pools[service] = pool(url, 1);
      if (readPipelining > 1) readPools[service] = pool(url, readPipelining);
      this.readsInFlight[service] = 0;
    }
    this.readPools = readPipelining > 1 ? readPools : undefined;
  }

  /**
   * One request; connection failures are retried (twice, 50 then 150 ms) only when `retryable`
   * (GET/HEAD/PUT/DELETE, or a POST carrying an Idempotency-Key) — a timeout is never retried,
   * because the service may still be working on it.
   */
  request(service: Upstream, options: Dispatcher.RequestOptions, retryable: boolean): Promise<Dispatcher.ResponseData> {
    // The first attempt is the pool's own promise (no extra async frame on the hot path).
    const first = this.pools[service].request(options);
    return retryable ? first.catch((error: unknown) => this.retry(service, options, error)) : first;
  }

  private async retry(service: Upstream, options: Dispatcher.RequestOptions, error: unknown): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      const delay = retryDelay(error, attempt);
      if (delay === undefined) throw error;
      await new Promise((r) => setTimeout(r, delay));
      try {
        return await this.pools[service].request(options);
      } catch (next) {
        error = next;
      }
    }
  }

  /**
   * The same call for the direct read path: the answer goes to `handler` as it arrives (undici's
   * dispatch handler — no response stream, no promise per request). The handler applies the same
   * retry rule (`retryDelay`) itself, since only it knows whether an answer had begun.
   */
  dispatch(service: Upstream, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    this.pools[service].dispatch(options, handler);
  }

  /**
   * A GET of the direct read path: pipelined (readPools) while more than `pipelineAbove` such reads
   * are in flight to the service, else on a connection of its own. Every call must be matched by
   * one `readEnded(service)` when undici ends it (the handler's onComplete or onError — each
   * dispatch ends in exactly one of them, a retry being a new dispatch).
   */
  dispatchRead(service: Upstream, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const inFlight = this.readsInFlight[service]++;
    if (this.readPools === undefined || inFlight < this.pipelineAbove) {
      this.pools[service].dispatch(options, handler);
      return;
    }
    // undici holds back anything behind a GET until its answer's headers arrive ("blocking", its
    // default for GET) — which would undo the pipelining; the head-of-line rules are above. (A retry
    // that lands on `pools` keeps the flag: with one request per connection it changes nothing.)
    options.blocking = false;
    this.readPools[service].dispatch(options, handler);
  }

  readEnded(service: Upstream): void {
    this.readsInFlight[service]--;
  }

  async onModuleDestroy(): Promise<void> {
    const pools = [...Object.values(this.pools), ...Object.values(this.readPools ?? {})];
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }
}
