import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { applySecurityHeaders, SECURITY_HEADERS } from './security-headers';

describe('security headers', () => {
  it('are exactly what helmet produces for the gateway configuration (computed once, not per request)', async () => {
    const reference = Fastify();
    await reference.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          upgradeInsecureRequests: null,
        },
      },
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
    });
    reference.get('/', async () => 'x');
    const mine = Fastify();
    mine.addHook('onRequest', (_req, reply, done) => {
      applySecurityHeaders(reply.raw);
      done();
    });
    mine.get('/', async () => 'x');
    const [a, b] = await Promise.all([reference.inject('/'), mine.inject('/')]);
    const pick = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !['date', 'content-length', 'content-type', 'connection'].includes(k)));
    expect(pick(b.headers)).toEqual(pick(a.headers));
    expect(Object.keys(SECURITY_HEADERS).length).toBeGreaterThan(10);
    await Promise.all([reference.close(), mine.close()]);
  });
});
