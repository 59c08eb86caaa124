import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '@yiyang/service-kit';
import type { SignedIn } from '../access/access-token';

/** One fixed window per key: the limit, what is left of it, and seconds until it starts again. */
export interface RateDecision {
  limit: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

export const RATE_WINDOW_MS = 60_000;

/**
 * The gateway's API rate limit (OWASP API4), one instance per replica, used by BOTH ways a request
 * can travel: the Fastify hook in http/setup.ts and the direct read path (proxy/fast-path.ts).
 * Signed-in callers are limited per user (offices share one NAT address), anonymous ones per IP.
 * Fixed windows starting at a key's first request, as @fastify/rate-limit's local store (which this
 * replaced for the general limit; it still guards sign-in and refresh, per IP, on their routes).
 * Expired windows are dropped in one sweep per window length, so the map holds at most the keys
 * seen in the last two windows.
 */
@Injectable()
export class RateLimits {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;
  readonly userMax: number;
  readonly ipMax: number;

  constructor(config: ConfigService) {
    this.userMax = Number(config.get('RATE_LIMIT_USER_PER_MINUTE'));
    this.ipMax = Number(config.get('RATE_LIMIT_IP_PER_MINUTE'));
  }

  /** Counts one request of this caller. */
  hit(signedIn: SignedIn | undefined, ip: string, now = Date.now()): RateDecision {
    const key = signedIn ? `user:${signedIn.userId}` : `ip:${ip}`;
    const max = signedIn ? this.userMax : this.ipMax;
    if (now >= this.nextSweep) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + RATE_WINDOW_MS };
      this.windows.set(key, window);
    }
    window.count++;
    return { limit: max, remaining: Math.max(0, max - window.count), resetSeconds: Math.ceil((window.resetAt - now) / 1000), exceeded: window.count > max };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    this.nextSweep = now + RATE_WINDOW_MS;
  }
}

/** Only the public API is limited: probes, scrapes and the console's static files are not API calls. */
export const isRateLimited = (url: string) => url.startsWith('/api/');

/** The headers every limited answer carries (names and values as @fastify/rate-limit wrote them), appended to a flat [name, value, …] list. */
export function pushRateLimitHeaders(head: unknown[], d: RateDecision): void {
  head.push('x-ratelimit-limit', String(d.limit), 'x-ratelimit-remaining', String(d.remaining), 'x-ratelimit-reset', String(d.resetSeconds));
  if (d.exceeded) head.push('retry-after', String(d.resetSeconds));
}

export const rateLimited = (d: RateDecision) =>
  new AppError('GATEWAY.RATE_LIMITED', 429, `Too many requests; try again in ${d.resetSeconds} seconds`, { messageZh: '请求过于频繁，请稍后再试' });

/**
 * A decision the direct path already took for a request it then handed to Fastify (the caller was
 * over the limit): Fastify's hook uses it instead of counting the request twice.
 */
export const RATE_DECISION = Symbol('gateway:rate-decision');
export type WithRateDecision = { [RATE_DECISION]?: RateDecision };
