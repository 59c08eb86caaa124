import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** RATE_LIMIT_LOGIN_PER_MINUTE of this gateway (set in http/setup.ts). */
    loginRateLimit?: number;
  }
}

/** Sign-in and refresh: per IP, far below the general limit (credential stuffing, OWASP API2). */
export const LOGIN_RATE_LIMIT = {
  max: (req: FastifyRequest) => req.server.loginRateLimit ?? 20,
  timeWindow: 60_000,
  keyGenerator: (req: { ip: string }) => `login:${req.ip}`,
};
