/**
 * CORS allow-list (OWASP API8): origins from CORS_ORIGINS (none by default — the console is
 * same-origin). The options of `@fastify/cors` on the Fastify path, and what it adds to an answer
 * for a request WITHOUT an Origin header, which the direct read path (proxy/fast-path.ts) adds the
 * same way (requests WITH an Origin header always go to Fastify).
 */
export const CORS_OPTIONS = {
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['authorization', 'content-type', 'accept-language', 'x-correlation-id', 'idempotency-key', 'if-match', 'if-none-match'],
  exposedHeaders: ['x-correlation-id', 'retry-after', 'content-disposition', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
  credentials: false,
  maxAge: 600,
};

export const corsOrigins = (configured: string): string[] =>
  configured
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `@fastify/cors` with an origin list: `Vary: Origin` and the exposed headers on every answer, as a flat [name, value, …] list. */
export function corsHeadersWithoutOrigin(origins: readonly string[]): string[] {
  return origins.length ? ['vary', 'Origin', 'access-control-expose-headers', CORS_OPTIONS.exposedHeaders.join(', ')] : [];
}
