import type { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { regionPath } from '@yiyang/geo';
import { AppError } from '@yiyang/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { Authenticator } from '../access/authenticator';
import { authFailureError, originOf } from '../access/request-context';
import { AuditService } from '../audit/audit.service';
import { forbidden, routeNotFound, uploadTooLarge } from '../http/problems';
import { authorise, REVEAL_ROLES } from './route-matrix';
import { appErrorBody, forwardHeaders, isIdempotent, JSON_CONTENT_TYPE, MAX_ERROR_BODY, returnedHeaders, SMALL_BODY, upstreamFailure, UPSTREAM_RETRY_AFTER } from './forwarding';
import { resolveRoute, type Route } from './routing';
import { classify, Upstreams } from './upstreams';

/** The one non-JSON request body the public API accepts. */
export const IMPORT_ROUTE = { method: 'POST', path: '/api/v1/elders/import' } as const;
export const isImportRoute = (method: string, url: string) => method === IMPORT_ROUTE.method && url.split('?')[0] === IMPORT_ROUTE.path;


declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body exactly as received (forwarded as is, after the gateway's checks). */
    rawJson?: string;
  }
}

/**
 * Forwards `/api/v1/<path>` to the owning service: authenticate → function-level authorisation
 * (route matrix) → property-level check (`reveal`) → one undici request with a short-lived internal
 * token carrying the principal → audit (writes, unmasked reads) → the service's answer, with error
 * bodies turned into the public error shape in the caller's language (onSend hook).
 */
@Injectable()
export class ProxyService {
  private readonly log = new Logger('Proxy');
  private readonly importTimeoutMs: number;
  private readonly importLimit: number;

  constructor(
    config: ConfigService,
    private readonly upstreams: Upstreams,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditService,
  ) {
    this.importTimeoutMs = Number(config.get('UPSTREAM_IMPORT_TIMEOUT_MS'));
    this.importLimit = Number(config.get('IMPORT_BODY_LIMIT_BYTES'));
  }

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const route = resolveRoute(req.url);
    if (!route) return this.fail(reply, routeNotFound());
    const signedIn = req.signedIn;
    const decision = authorise(signedIn?.principal.role, req.method, route.segments);
    if (decision.allowed && decision.rule.anonymous) return this.forwardMachineCall(req, reply, route);
    if (!signedIn) return this.fail(reply, authFailureError(req.authFailure));
    const { principal } = signedIn;
    // No rule: the route does not exist publicly (404); a rule without this role: 403 — before the
    // service is asked, so a refused caller learns nothing about the record either way.
    if (!decision.allowed) return this.fail(reply, decision.reason === 'NO_ROUTE' ? routeNotFound() : forbidden());
    const reveal = isReveal(req.query);
    if (reveal && !REVEAL_ROLES.includes(principal.role)) {
      return this.fail(reply, new AppError('AUTH.REVEAL_FORBIDDEN', 403, 'Your role may not see personal data unmasked', { field: 'reveal', messageZh: '您的角色无权查看未脱敏的个人信息' }));
    }

    const isImport = isImportRoute(req.method, req.url);
    const body = req.rawJson ?? (isImport ? (req.body as Readable | undefined) : undefined);
    const headers = forwardHeaders(req.headers, this.authenticator.internalTokenFor(req.headers.authorization ?? '', principal), String(req.id), req.ip, req.protocol);
    if (req.rawJson !== undefined) headers['content-length'] = String(Buffer.byteLength(req.rawJson));
    const idempotent = isIdempotent(req.method, req.headers);
    const timeout = isImport ? this.importTimeoutMs : this.upstreams.timeoutMs;

    const res = await this.send(req, reply, route, { method: req.method as 'GET', path: route.internalUrl, headers, body, headersTimeout: timeout, bodyTimeout: timeout }, idempotent && typeof body !== 'object');
    if (!res) return;
    const status = res.statusCode;
    const isWrite = req.method !== 'GET' && req.method !== 'HEAD';
    if (status >= 400) return this.relayError(req, reply, route, res);

    if ((isWrite && status < 400) || (reveal && status === 200)) {
      try {
        await this.audit.record({
          action: isWrite ? 'API_WRITE' : 'PII_UNMASKED_READ',
          actor: { userId: principal.userId, role: principal.role },
          regionPath: regionPath(signedIn.homeRegion),
          method: req.method,
          path: `/api/v1/${route.publicPath}`,
          status,
          origin: originOf(req),
          details: { service: route.service },
        });
      } catch (error) {
        if (!isWrite) {
          // Unmasked personal data is only handed out once its read is on record.
          await res.body.dump();
          return this.fail(reply, new AppError('GATEWAY.AUDIT_UNAVAILABLE', 503, 'The audit log is unavailable; unmasked data cannot be shown now', { messageZh: '审计日志暂不可用，暂时无法查看未脱敏信息' }));
        }
        this.log.error({ err: error, correlationId: req.id, path: route.publicPath }, 'write forwarded but its audit entry could not be stored');
      }
    }

    return this.relaySuccess(reply, route, res);
  }

  /** Vendor telemetry and the like: no principal, no internal token; the service checks the key the caller sent. */
  private async forwardMachineCall(req: FastifyRequest, reply: FastifyReply, route: Route): Promise<void> {
    const headers: Record<string, string> = { 'x-correlation-id': String(req.id), 'x-forwarded-for': req.ip };
    for (const name of ['content-type', 'accept', 'accept-language', 'x-api-key'] as const) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (req.rawJson !== undefined) headers['content-length'] = String(Buffer.byteLength(req.rawJson));
    const res = await this.send(req, reply, route, { method: req.method as 'POST', path: route.internalUrl, headers, body: req.rawJson, headersTimeout: this.upstreams.timeoutMs, bodyTimeout: this.upstreams.timeoutMs }, false);
    if (!res) return;
    if (res.statusCode >= 400) return this.relayError(req, reply, route, res);
    return this.relaySuccess(reply, route, res);
  }

  private async send(req: FastifyRequest, reply: FastifyReply, route: Route, options: Parameters<Upstreams['request']>[1], retryable: boolean) {
    try {
      return await this.upstreams.request(route.service, options, retryable);
    } catch (error) {
      // A chunked upload that ran past its limit while streaming: the caller's fault, not the service's.
      if (req.uploadTooLarge) return void this.fail(reply, uploadTooLarge(Number(this.importLimit)));
      const failure = classify(error);
      this.log.warn({ service: route.service, code: (error as { code?: string }).code, correlationId: req.id }, `upstream ${failure.toLowerCase()}`);
      void reply.header('retry-after', UPSTREAM_RETRY_AFTER);
      this.fail(reply, upstreamFailure(route, error));
      return undefined;
    }
  }

  private async relayError(req: FastifyRequest, reply: FastifyReply, route: Route, res: Dispatcher.ResponseData): Promise<void> {
    const text = await readLimited(res.body, MAX_ERROR_BODY);
    if (res.statusCode >= 500) this.log.warn({ service: route.service, status: res.statusCode, correlationId: req.id }, 'upstream error');
    void reply.status(res.statusCode).header('content-type', JSON_CONTENT_TYPE);
    const retryAfter = res.headers['retry-after'];
    if (typeof retryAfter === 'string') void reply.header('retry-after', retryAfter);
    return void reply.send(text || JSON.stringify({}));
  }

  private relaySuccess(reply: FastifyReply, route: Route, res: Dispatcher.ResponseData): void {
    void reply.status(res.statusCode);
    for (const [name, value] of returnedHeaders(route, res.headers)) void reply.header(name, value);
    // Small JSON answers (every list and record) are passed as one buffer — cheaper than piping a
    // stream; files and large answers (exports, roster templates) stream through.
    const length = Number(res.headers['content-length'] ?? -1);
    const contentType = String(res.headers['content-type'] ?? '');
    if (contentType.startsWith('application/json') && length >= 0 && length < SMALL_BODY) {
      return void res.body.arrayBuffer().then(
        (body) => void reply.send(Buffer.from(body)),
        (error: unknown) => void reply.send(error),
      );
    }
    return void reply.send(res.body);
  }

  private fail(reply: FastifyReply, error: AppError): void {
    void reply.status(error.status).header('content-type', JSON_CONTENT_TYPE).send(appErrorBody(error));
  }
}

export function isReveal(query: unknown): boolean {
  const v = (query as Record<string, unknown> | undefined)?.['reveal'];
  const values = Array.isArray(v) ? v : [v];
  return values.some((x) => typeof x === 'string' && x !== 'false' && x !== '0' && x !== '');
}

export async function readLimited(body: AsyncIterable<Buffer> & { destroy?: () => void }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export type { Route };
