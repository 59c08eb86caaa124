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

/** One keep-alive undici Pool per service (service URLs from config, localhost 3001–3004 by default). */
@Injectable()
export class Upstreams implements OnModuleDestroy {
  readonly pools: Record<Upstream, Pool>;
  readonly urls: Record<Upstream, string>;
  readonly timeoutMs: number;

  constructor(config: ConfigService) {
    const connections = Number(config.get('UPSTREAM_CONNECTIONS'));
    this.timeoutMs = Number(config.get('UPSTREAM_TIMEOUT_MS'));
    this.urls = {} as Record<Upstream, string>;
    this.pools = {} as Record<Upstream, Pool>;
    for (const service of UPSTREAMS) {
      const url = String(config.getOrThrow(UPSTREAM_URL_VARIABLE[service]));
      this.urls[service] = url;
      this.pools[service] = new Pool(url, {
        connections,
        pipelining: 1,
        connect: { timeout: 2_000 },
        keepAliveTimeout: 4_000,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    }
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

  async onModuleDestroy(): Promise<void> {
    await Promise.all(Object.values(this.pools).map((p) => p.close().catch(() => undefined)));
  }
}
