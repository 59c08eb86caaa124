import type { Role } from '@yiyang/service-kit';
import type { Upstream } from './routing';

/**
 * Function-level authorisation, enforced by the gateway BEFORE a request is forwarded (OWASP API5).
 * Object-level scope (which region, provider, elder) is enforced again inside each service.
 *
 * A rule matches a method and a public path pattern below /api/v1 (`:x` = one segment, `**` = the
 * rest). The first matching rule wins, so specific rules precede a segment's catch-all. A request no
 * rule matches is refused (deny by default). docs/api/route-matrix.md is generated from this table
 * (`renderRouteMatrix`) and a unit test keeps the two identical.
 */
export interface RouteRule {
  service: Upstream | 'gateway';
  methods: readonly Method[];
  pattern: string;
  roles: readonly Role[];
  note?: string;
  /** Machine-to-machine routes that carry their own credential (a vendor API key), not a user's token. */
  anonymous?: true;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const ADMIN = 'civil_affairs_admin';
const OP = 'provider_operator';
const CG = 'caregiver';
const EL = 'elder';
const GU = 'guardian';
const AS = 'assessor';
const AU = 'auditor';
export const ALL_ROLES: readonly Role[] = [ADMIN, OP, CG, EL, GU, AS, AU];

const R: readonly Method[] = ['GET'];
const W: readonly Method[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** Roles that may ask for personal data unmasked (`?reveal=true`); everyone else gets 403 before the service is asked. */
export const REVEAL_ROLES: readonly Role[] = [ADMIN, AS];

const rule = (service: RouteRule['service'], methods: readonly Method[], pattern: string, roles: readonly Role[], note?: string): RouteRule => ({
  service,
  methods,
  pattern,
  roles,
  note,
});

const REGISTRY_READERS = [ADMIN, AS, AU, OP] as const;
const ELDER_READERS = [ADMIN, AS, AU, EL, GU] as const;

export const ROUTE_RULES: readonly RouteRule[] = [
  // gateway's own routes (answered by the gateway; listed so the matrix is complete)
  rule('gateway', ['POST'], 'auth/login', ALL_ROLES, 'anonymous; rate-limited per IP; lockout per account'),
  rule('gateway', ['POST'], 'auth/refresh', ALL_ROLES, 'anonymous (refresh token in body)'),
  rule('gateway', ['POST'], 'auth/logout', ALL_ROLES, 'anonymous (refresh token in body)'),
  rule('gateway', ['GET'], 'me', ALL_ROLES),
  rule('gateway', ['POST'], 'me/password', ALL_ROLES),
  rule('gateway', ['GET', 'POST'], 'users', [ADMIN], 'only users inside the admin\'s region subtree'),
  rule('gateway', ['GET', 'PATCH'], 'users/:id', [ADMIN], 'same scope; out-of-scope ids answer 404'),
  rule('gateway', ['POST'], 'users/:id/password', [ADMIN], 'same scope'),
  rule('gateway', ['GET'], 'audit', [AU, ADMIN], 'entries whose actor is inside the caller\'s region subtree'),

  // registry — mirrors the service's own @AllowRoles
  rule('registry', R, 'regions', [ADMIN, AS, AU]),
  rule('registry', R, 'regions/:code', [ADMIN, AS, AU]),
  rule('registry', ['PUT'], 'regions/:code', [ADMIN]),
  rule('registry', ['POST'], 'elders/import', [ADMIN], 'multipart/form-data (the only non-JSON body)'),
  rule('registry', R, 'elders/import/template.xlsx', [ADMIN]),
  rule('registry', R, 'elders/import/:importId/errors.csv', [ADMIN]),
  rule('registry', ['POST'], 'elders', [ADMIN]),
  rule('registry', R, 'elders', ELDER_READERS),
  rule('registry', R, 'elders/:id', ELDER_READERS, '`?reveal=true` only for admin and assessor; audited'),
  rule('registry', ['PATCH'], 'elders/:id', [ADMIN]),
  rule('registry', ['POST'], 'elders/:id/status', [ADMIN]),
  rule('registry', ['POST'], 'elders/:id/assessments', [ADMIN, AS]),
  rule('registry', R, 'elders/:id/assessments', ELDER_READERS),
  rule('registry', R, 'providers', REGISTRY_READERS),
  rule('registry', R, 'providers/:id', REGISTRY_READERS),
  rule('registry', ['POST'], 'providers', [ADMIN]),
  rule('registry', ['PUT'], 'providers/:id', [ADMIN]),
  rule('registry', ['POST'], 'providers/:id/contracts', [ADMIN]),
  rule('registry', ['PUT'], 'providers/:id/contracts/:contractId', [ADMIN]),
  rule('registry', R, 'contracts', REGISTRY_READERS),
  rule('registry', R, 'caregivers', REGISTRY_READERS),
  rule('registry', R, 'caregivers/:id', [...REGISTRY_READERS, CG]),
  rule('registry', ['POST'], 'caregivers', [ADMIN, OP]),
  rule('registry', ['PUT'], 'caregivers/:id', [ADMIN, OP]),
  rule('registry', R, 'facilities', REGISTRY_READERS),
  rule('registry', R, 'facilities/:id', REGISTRY_READERS),
  rule('registry', ['POST'], 'facilities', [ADMIN]),
  rule('registry', ['PUT'], 'facilities/:id', [ADMIN]),
  rule('registry', ['PATCH'], 'facilities/:id/beds', [ADMIN, OP]),
  rule('registry', R, 'family-care-beds', REGISTRY_READERS),
  rule('registry', R, 'family-care-beds/:id', REGISTRY_READERS),
  rule('registry', ['POST'], 'family-care-beds', [ADMIN]),
  rule('registry', ['PUT'], 'family-care-beds/:id', [ADMIN]),
  rule('registry', R, 'catalogue/items', ALL_ROLES, 'public catalogue'),
  rule('registry', R, 'catalogue/items/:code', ALL_ROLES, 'public catalogue'),
  rule('registry', ['POST'], 'catalogue/items/seed', [ADMIN]),
  rule('registry', ['PUT'], 'catalogue/items/:code', [ADMIN]),
  rule('registry', R, 'catalogue/prices', REGISTRY_READERS),
  rule('registry', ['PUT'], 'catalogue/prices/:providerId/:itemCode', [ADMIN, OP]),
  rule('registry', R, 'coverage/:regionCode', [ADMIN, AS, AU]),
  rule('registry', R, 'registry-audit', [AU, ADMIN]),

  // dispatch — segment-level fences; the service's own role checks are finer
  rule('dispatch', R, 'orders/**', [ADMIN, OP, CG, EL, GU, AU]),
  rule('dispatch', W, 'orders/**', [ADMIN, OP, CG, EL, GU], 'elders/guardians order and rate; operators assign; caregivers act on theirs'),
  rule('dispatch', R, 'offers/**', [CG], 'a caregiver\'s own offers'),
  rule('dispatch', W, 'offers/**', [CG], 'caregivers accept/decline their own offers'),
  rule('dispatch', R, 'emergencies/**', [ADMIN, OP, CG, EL, GU, AU]),
  rule('dispatch', W, 'emergencies/**', [ADMIN, OP, CG, EL, GU], 'an elder or guardian raises SOS'),
  rule('dispatch', R, 'visits/**', [ADMIN, OP, CG, EL, GU, AU]),
  rule('dispatch', W, 'visits/**', [ADMIN, OP, CG, EL, GU], 'caregivers check in/out; elders confirm'),
  rule('dispatch', R, 'service-plans/**', [ADMIN, OP, CG, EL, GU, AS, AU]),
  rule('dispatch', W, 'service-plans/**', [ADMIN, OP, AS]),
  rule('dispatch', R, 'rounds/**', [ADMIN, OP, CG, AU]),
  rule('dispatch', W, 'rounds/**', [ADMIN, OP, CG]),
  rule('dispatch', R, 'round-rules/**', [ADMIN, OP, AU]),
  rule('dispatch', W, 'round-rules/**', [ADMIN, OP]),
  rule('dispatch', R, 'complaints/**', [ADMIN, OP, EL, GU, AU]),
  rule('dispatch', W, 'complaints/**', [ADMIN, OP, EL, GU]),
  rule('dispatch', R, 'duty-workers/**', [ADMIN, OP, AU]),
  rule('dispatch', W, 'duty-workers/**', [ADMIN, OP]),
  rule('dispatch', R, 'my-day/**', [CG]),
  rule('dispatch', W, 'my-day/**', [CG]),

  // billing
  rule('billing', R, 'policies/**', ALL_ROLES),
  rule('billing', W, 'policies/**', [ADMIN]),
  rule('billing', R, 'entitlements/**', [ADMIN, AS, AU, EL, GU]),
  rule('billing', W, 'entitlements/**', [ADMIN, AS]),
  rule('billing', R, 'accounts/**', [ADMIN, AU, EL, GU]),
  rule('billing', W, 'accounts/**', [ADMIN]),
  rule('billing', R, 'ledger/**', [ADMIN, AU, OP, EL, GU]),
  rule('billing', W, 'ledger/**', [ADMIN]),
  rule('billing', R, 'settlements/**', [ADMIN, AU, OP]),
  rule('billing', W, 'settlements/**', [ADMIN, OP], 'operators confirm or dispute their statements'),
  rule('billing', R, 'budgets/**', [ADMIN, AU]),
  rule('billing', W, 'budgets/**', [ADMIN]),
  rule('billing', R, 'anomalies/**', [ADMIN, AU]),
  rule('billing', W, 'anomalies/**', [ADMIN]),
  rule('billing', R, 'funds/**', [ADMIN, AU]),
  rule('billing', W, 'funds/**', [ADMIN]),

  // monitoring
  rule('monitoring', R, 'devices/**', [ADMIN, AS, AU, EL, GU]),
  rule('monitoring', W, 'devices/**', [ADMIN]),
  { ...rule('monitoring', ['POST'], 'telemetry', [], 'vendor platforms: no user token, their `x-api-key` (checked by monitoring); rate-limited per IP'), anonymous: true },
  rule('monitoring', R, 'alerts/**', [ADMIN, AS, AU, OP, EL, GU]),
  rule('monitoring', W, 'alerts/**', [ADMIN, OP, GU], 'acknowledge / resolve'),
  rule('monitoring', R, 'alert-thresholds/**', [ADMIN, AS, AU]),
  rule('monitoring', W, 'alert-thresholds/**', [ADMIN, AS]),
  rule('monitoring', R, 'dashboards/**', [ADMIN, AS, AU]),
  rule('monitoring', W, 'dashboards/**', [ADMIN]),
  rule('monitoring', R, 'vendors/**', [ADMIN, AU]),
  rule('monitoring', W, 'vendors/**', [ADMIN]),
];

const PARTS = new Map<string, string[]>();

function matches(pattern: string, segments: readonly string[]): boolean {
  let parts = PARTS.get(pattern);
  if (!parts) PARTS.set(pattern, (parts = pattern.split('/')));
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === '**') return true;
    const segment = segments[i];
    if (segment === undefined || segment === '') return false;
    if (part.startsWith(':')) continue;
    if (part !== segment) return false;
  }
  // a trailing slash (`elders/`) is the same resource as `elders`
  return segments.length === parts.length || (segments.length === parts.length + 1 && segments[segments.length - 1] === '');
}

/** HEAD is authorised as GET. */
export function findRule(method: string, segments: readonly string[]): RouteRule | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return ROUTE_RULES.find((r) => r.service !== 'gateway' && (r.methods as readonly string[]).includes(m) && matches(r.pattern, segments));
}

export type Decision = { allowed: true; rule: RouteRule } | { allowed: false; reason: 'NO_ROUTE' | 'ROLE' };

export function authorise(role: Role | undefined, method: string, segments: readonly string[]): Decision {
  const found = findRule(method, segments);
  if (!found) return { allowed: false, reason: 'NO_ROUTE' };
  if (found.anonymous) return { allowed: true, rule: found };
  return role && found.roles.includes(role) ? { allowed: true, rule: found } : { allowed: false, reason: 'ROLE' };
}

const ROLE_SHORT: Record<Role, string> = { civil_affairs_admin: 'admin', provider_operator: 'operator', caregiver: 'caregiver', elder: 'elder', guardian: 'guardian', assessor: 'assessor', auditor: 'auditor' };

/** The Markdown table in docs/api/route-matrix.md. */
export function renderRouteMatrix(): string {
  const header = `| service | method | path (below /api/v1) | ${ALL_ROLES.map((r) => ROLE_SHORT[r]).join(' | ')} | note |`;
  const divider = `|${' --- |'.repeat(4 + ALL_ROLES.length)}`;
  const rows = ROUTE_RULES.map(
    (r) =>
      `| ${r.service} | ${r.methods.join(', ')} | \`${r.pattern}\` | ${ALL_ROLES.map((role) => (r.anonymous ? 'key' : r.roles.includes(role) ? '✓' : '')).join(' | ')} | ${r.note ?? ''} |`,
  );
  return [header, divider, ...rows].join('\n');
}
