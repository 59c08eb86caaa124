import type { OpenAPIObject } from '@nestjs/swagger';
import { ERROR_STATUSES } from './error-responses';
import { ErrorSchema } from './gateway-schemas';
import { publicPathOf, UPSTREAMS, type Upstream } from '../proxy/routing';
import { findRule } from '../proxy/route-matrix';

type Doc = OpenAPIObject;
type Operation = Record<string, unknown> & { responses?: Record<string, unknown>; operationId?: string; tags?: string[]; security?: unknown[] };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Renames every `#/components/schemas/X` reference to `#/components/schemas/<service>.X`. */
function prefixRefs<T>(value: T, service: string): T {
  return JSON.parse(JSON.stringify(value).replace(/"#\/components\/schemas\/([^"]+)"/g, `"#/components/schemas/${service}.$1"`)) as T;
}

/**
 * One public document: the gateway's own routes plus every service's paths that the routing table
 * exposes, rewritten under /api/v1 (`/audit` of the registry → `/api/v1/registry-audit`), their
 * schemas namespaced by service, bearer security on every operation except sign-in, the roles the
 * route matrix allows written into each operation, and the shared error responses added.
 * Services whose document could not be fetched are listed in `x-yiyang-unavailable`.
 */
export function mergeDocuments(gateway: Doc, services: Partial<Record<Upstream, Doc>>, serverUrl = '/'): Doc {
  const merged: Doc = {
    openapi: '3.0.0',
    info: {
      title: 'Yiyang public API (颐养 开放接口)',
      version: '1',
      description:
        'One REST API over the registry, dispatch, billing and monitoring services, served by the gateway. ' +
        'Authenticate with POST /api/v1/auth/login and send `Authorization: Bearer <accessToken>`. ' +
        'Errors: `{code, message, field?, correlationId}`; `Accept-Language: zh-CN|en` picks the message language. ' +
        'Lists: `?page=1&pageSize=20` → `{items, page, pageSize, total}`.',
    },
    servers: [{ url: serverUrl }],
    paths: {},
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: ErrorSchema as never },
    },
    tags: [],
  };
  const unavailable: string[] = [];
  const sources: [Upstream | 'gateway', Doc | undefined][] = [['gateway', gateway], ...UPSTREAMS.map((s) => [s, services[s]] as [Upstream, Doc | undefined])];
  for (const [source, doc] of sources) {
    if (!doc) {
      unavailable.push(source);
      continue;
    }
    const prefixed = source === 'gateway' ? doc : prefixRefs(doc, source);
    for (const [name, schema] of Object.entries(prefixed.components?.schemas ?? {})) {
      merged.components!.schemas![source === 'gateway' ? name : `${source}.${name}`] = schema;
    }
    for (const [path, item] of Object.entries(prefixed.paths ?? {})) {
      const publicPath = source === 'gateway' ? (path.startsWith('/api/v1/') ? path : undefined) : publicPathOf(source, path);
      if (!publicPath) continue; // health, metrics, docs: not public
      const out: Record<string, unknown> = {};
      for (const method of METHODS) {
        const op = (item as Record<string, Operation | undefined>)[method];
        if (!op) continue;
        const segments = publicPath.slice('/api/v1/'.length).split('/');
        const rule = findRuleFor(source, method.toUpperCase(), segments);
        if (source !== 'gateway' && !rule) continue; // not routed publicly → not documented
        const anonymous = (source === 'gateway' && publicPath.startsWith('/api/v1/auth/')) || !!rule?.anonymous;
        const operationId = op.operationId ? (source === 'gateway' ? op.operationId : `${source}_${op.operationId}`) : undefined;
        out[method] = {
          ...op,
          ...(operationId ? { operationId } : {}),
          security: anonymous ? [] : [{ bearer: [] }],
          ...(rule && !rule.anonymous ? { 'x-yiyang-roles': rule.roles } : {}),
          responses: withErrorResponses(op.responses ?? {}, anonymous),
        };
      }
      if (Object.keys(out).length > 0) merged.paths[publicPath] = { ...(merged.paths[publicPath] ?? {}), ...out };
    }
    for (const tag of prefixed.tags ?? []) if (!merged.tags!.some((t) => t.name === tag.name)) merged.tags!.push(tag);
  }
  (merged as unknown as Record<string, unknown>)['x-yiyang-unavailable'] = unavailable;
  return merged;
}

function findRuleFor(source: Upstream | 'gateway', method: string, segments: string[]) {
  if (source === 'gateway') return undefined;
  // Path templates use {param}; the matrix uses :param — any concrete value matches a :param rule.
  return findRule(method, segments.map((s) => (/^\{.+\}$/.test(s) ? 'x' : s)));
}

function withErrorResponses(responses: Record<string, unknown>, anonymous: boolean): Record<string, unknown> {
  const out = { ...responses };
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    if (anonymous && (status === '403' || status === '404')) continue;
    if (!out[status]) out[status] = { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return out;
}
