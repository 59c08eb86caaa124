/**
 * The agreed public routing table (helpers brief): `/api/v1/<segment>/...` goes to the service that
 * owns `<segment>`, with `/api/v1` stripped. The only renamed segment is the registry's own audit
 * log, published as `registry-audit` because `audit` is the gateway's.
 */
export const UPSTREAMS = ['registry', 'dispatch', 'billing', 'monitoring'] as const;
export type Upstream = (typeof UPSTREAMS)[number];

export const UPSTREAM_URL_VARIABLE: Record<Upstream, 'REGISTRY_URL' | 'DISPATCH_URL' | 'BILLING_URL' | 'MONITORING_URL'> = {
  registry: 'REGISTRY_URL',
  dispatch: 'DISPATCH_URL',
  billing: 'BILLING_URL',
  monitoring: 'MONITORING_URL',
};

export const SEGMENTS: Record<Upstream, readonly string[]> = {
  registry: ['regions', 'elders', 'providers', 'contracts', 'caregivers', 'facilities', 'family-care-beds', 'catalogue', 'coverage', 'audit'],
  dispatch: ['orders', 'offers', 'emergencies', 'visits', 'service-plans', 'rounds', 'round-rules', 'complaints', 'duty-workers', 'my-day'],
  billing: ['policies', 'entitlements', 'accounts', 'ledger', 'settlements', 'budgets', 'anomalies', 'funds'],
  monitoring: ['devices', 'telemetry', 'alerts', 'alert-thresholds', 'dashboards', 'vendors'],
};

/** Segments the gateway answers itself (never forwarded). */
export const GATEWAY_SEGMENTS = ['auth', 'users', 'audit', 'me', 'docs'] as const;

/** Public segment → internal segment, where they differ. */
export const PUBLIC_TO_INTERNAL: Record<string, string> = { 'registry-audit': 'audit' };
export const INTERNAL_TO_PUBLIC: Partial<Record<Upstream, Record<string, string>>> = { registry: { audit: 'registry-audit' } };

const OWNER = new Map<string, Upstream>();
for (const service of UPSTREAMS) {
  for (const segment of SEGMENTS[service]) {
    const publicSegment = INTERNAL_TO_PUBLIC[service]?.[segment] ?? segment;
    OWNER.set(publicSegment, service);
  }
}

export interface Route {
  service: Upstream;
  /** Public path below /api/v1, no query, no leading slash: `elders/abc/status`. */
  publicPath: string;
  /** Path (with query) as the service expects it: `/elders/abc/status?x=1`. */
  internalUrl: string;
  segments: string[];
}

/** The service owning a public URL's first segment (`/api/v1/<segment>…`), or undefined. */
export function ownerOfPublicUrl(url: string): Upstream | undefined {
  if (!url.startsWith('/api/v1/')) return undefined;
  const end = url.slice(8).search(/[/?]/);
  return OWNER.get(end === -1 ? url.slice(8) : url.slice(8, 8 + end));
}

/** Resolves `/api/v1/...` (with query) to its owner, or undefined when no service owns it. */
export function resolveRoute(url: string): Route | undefined {
  const rest = url.slice('/api/v1/'.length);
  const q = rest.indexOf('?');
  const publicPath = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q);
  const segments = publicPath.split('/');
  const service = OWNER.get(segments[0]);
  if (!service) return undefined;
  // Refuse path tricks rather than normalise them: the service must see exactly what we authorised.
  if (segments.some((s, i) => s === '.' || s === '..' || (s === '' && i !== segments.length - 1)) || /%2f|%5c|\\/i.test(publicPath)) return undefined;
  const internalFirst = PUBLIC_TO_INTERNAL[segments[0]] ?? segments[0];
  return { service, publicPath, internalUrl: `/${[internalFirst, ...segments.slice(1)].join('/')}${query}`, segments };
}

/** Rewrites a service's own path (`/audit`, `/elders/{id}`) to its public one, or undefined when it is not exposed. */
export function publicPathOf(service: Upstream, internalPath: string): string | undefined {
  const segments = internalPath.replace(/^\//, '').split('/');
  if (!SEGMENTS[service].includes(segments[0])) return undefined;
  const first = INTERNAL_TO_PUBLIC[service]?.[segments[0]] ?? segments[0];
  return `/api/v1/${[first, ...segments.slice(1)].join('/')}`;
}
