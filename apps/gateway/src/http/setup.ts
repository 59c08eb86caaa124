import { Transform, type Readable } from 'node:stream';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { ConfigService } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError } from '@yiyang/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Authenticator, UNKNOWN, type AuthResult } from '../access/authenticator';
import { FastPath } from '../proxy/fast-path';
import { appErrorBody, JSON_CONTENT_TYPE, publicErrorPayload } from '../proxy/forwarding';
import { isImportRoute, ProxyService } from '../proxy/proxy.service';
import { logForwarded } from '../proxy/request-log';
import { Upstreams } from '../proxy/upstreams';
import { consoleHandler } from './console-static';
import { CORS_OPTIONS, corsHeadersWithoutOrigin, corsOrigins } from './cors';
import { jsonShapeProblem } from './json-limits';
import './limits';
import { RATE_DECISION, rateLimited, pushRateLimitHeaders, isRateLimited, RateLimits, type WithRateDecision } from './rate-limit';
import { uploadTooLarge } from './problems';
import { applySecurityHeaders } from './security-headers';

const PROXY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Everything the gateway adds to the service kit's Fastify app, in order: strict body parsing,
 * authentication, security headers, CORS allow-list, rate limits, the public error shape, the
 * forwarding route and the console. Called before `app.init()` (plugins must see every route).
 * Returns the direct read path (proxy/fast-path.ts), built on the same rules, for the HTTP server
 * to offer each request to before Fastify.
 */
export async function configureGateway(app: NestFastifyApplication, options: { trustProxy: boolean }): Promise<FastPath> {
  const config = app.get(ConfigService);
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const authenticator = app.get(Authenticator);
  const proxy = app.get(ProxyService);
  const bodyLimit = Number(config.get('BODY_LIMIT_BYTES'));
  const importLimit = Number(config.get('IMPORT_BODY_LIMIT_BYTES'));
  const maxArray = Number(config.get('JSON_MAX_ARRAY_LENGTH'));
  const maxDepth = Number(config.get('JSON_MAX_DEPTH'));

  // Strict content types: JSON only (no text/plain, no forms), plus multipart on the roster import.
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    parseJson(req, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(new AppError('VALIDATION.MALFORMED_JSON', 400, 'The body is not valid JSON', { messageZh: '请求体不是合法的 JSON' }), undefined);
      const problem = jsonShapeProblem(value, maxArray, maxDepth);
      if (problem) return done(problem, undefined);
      (req as FastifyRequest).rawJson = body as string;
      done(null, value);
    });
  });
  // The roster upload is NOT buffered: the request stream itself is the body handed to the proxy,
  // which pipes it to the registry as it arrives. Its limit is checked up front from
  // Content-Length, and counted on the way for chunked uploads that announce none.
  fastify.addContentTypeParser('multipart/form-data', (req, payload, done) => {
    if (!isImportRoute(req.method, req.url)) return done(unsupportedMediaType(), undefined);
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > importLimit) return done(uploadTooLarge(importLimit), undefined);
    done(null, length > 0 ? payload : limitStream(payload, importLimit, () => ((req as FastifyRequest).uploadTooLarge = true)));
  });
  fastify.addContentTypeParser('*', (_req, _payload, done) => done(unsupportedMediaType(), undefined));

  const signIn = (req: FastifyRequest, result: AuthResult | undefined) => {
    if (!result) return;
    if (result.ok) {
      req.signedIn = result.signedIn;
      req.principal = result.signedIn.principal;
    } else {
      req.authFailure = result.code;
    }
  };
  // Synchronous when the answer is known (a token seen before, its session checked < 5 s ago): no
  // promise per request in the steady state; the session read otherwise.
  fastify.addHook('onRequest', (req, _reply, done) => {
    const known = authenticator.authenticateKnown(req.headers.authorization);
    if (known !== UNKNOWN) {
      signIn(req, known);
      return done();
    }
    authenticator.authenticate(req.headers.authorization).then(
      (result) => {
        signIn(req, result);
        done();
      },
      (error: Error) => done(error),
    );
  });

  // Every error leaves in one shape, in the caller's language — the gateway's own, Fastify's, and
  // the services' (which send message + messageZh).
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode < 400 || typeof payload !== 'string' || req.url.startsWith('/health')) return done(null, payload);
    if (!String(reply.getHeader('content-type') ?? '').includes('json')) return done(null, payload);
    done(null, publicErrorPayload(reply.statusCode, payload, req.headers['accept-language'], String(req.id)));
  });

  // Security headers (OWASP API8): a constant table, see security-headers.ts for why not @fastify/helmet.
  fastify.addHook('onRequest', (_req, reply, done) => {
    applySecurityHeaders(reply.raw);
    done();
  });

  const origins = corsOrigins(String(config.get('CORS_ORIGINS') ?? ''));
  await app.register(cors as never, { origin: origins.length ? origins : false, ...CORS_OPTIONS });

  // Rate limits (OWASP API4). Sign-in and refresh: per IP, on their routes (@fastify/rate-limit,
  // LOGIN_RATE_LIMIT). Everything else under /api/: RateLimits, per user once signed in, per IP
  // otherwise — the same counters the direct read path uses.
  fastify.decorate('loginRateLimit', Number(config.get('RATE_LIMIT_LOGIN_PER_MINUTE')));
  await app.register(rateLimit as never, {
    global: false,
    errorResponseBuilder: (_req: FastifyRequest, context: { after: string }) =>
      new AppError('GATEWAY.RATE_LIMITED', 429, `Too many requests; try again in ${context.after}`, { messageZh: '请求过于频繁，请稍后再试' }),
  });
  const limits = app.get(RateLimits);
  fastify.addHook('onRequest', (req, reply, done) => {
    if (!isRateLimited(req.url) || req.routeOptions.config?.rateLimit) return done();
    const decision = (req.raw as WithRateDecision)[RATE_DECISION] ?? limits.hit(req.signedIn, req.ip);
    const head: string[] = [];
    pushRateLimitHeaders(head, decision);
    for (let i = 0; i < head.length; i += 2) void reply.header(head[i], head[i + 1]);
    if (!decision.exceeded) return done();
    void reply.code(429).header('content-type', JSON_CONTENT_TYPE).send(appErrorBody(rateLimited(decision)));
  });

  fastify.route({ method: [...PROXY_METHODS], url: '/api/v1/*', onResponse: logForwarded, handler: async (req, reply) => {
      await proxy.handle(req, reply);
      return reply; // tells Fastify the reply is already on its way (a streamed body may still be flowing)
    },
  });
  const serveConsole = consoleHandler(String(config.get('CONSOLE_DIR')));
  const fastPath = new FastPath({ authenticator, upstreams: app.get(Upstreams), limits, corsHeaders: corsHeadersWithoutOrigin(origins), trustProxy: options.trustProxy });
  fastify.route({
    method: ['GET'],
    url: '/*',
    handler: async (req, reply) => {
      await serveConsole(req, reply);
      return reply;
    },
  });
  return fastPath;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when a chunked upload ran past the limit while being forwarded. */
    uploadTooLarge?: boolean;
  }
}

/** Passes `source` through, failing the stream once more than `limit` bytes went by. */
function limitStream(source: Readable, limit: number, onExceeded: () => void): Readable {
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) {
        onExceeded();
        return callback(uploadTooLarge(limit));
      }
      callback(null, chunk);
    },
  });
  source.on('error', (error) => counted.destroy(error));
  return source.pipe(counted);
}

const unsupportedMediaType = () =>
  new AppError('VALIDATION.UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as application/json', { messageZh: '请求体须为 application/json' });
