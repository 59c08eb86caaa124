import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ALL_ROLES, authorise, renderRouteMatrix, ROUTE_RULES } from './route-matrix';
import { FORWARDED_ROUTES } from './request-log';
import { GATEWAY_SEGMENTS, ownerOfPublicUrl, publicPathOf, resolveRoute, SEGMENTS } from './routing';

describe('routing table', () => {
  it('sends each public segment to its owner, with /api/v1 stripped and the query kept', () => {
    expect(resolveRoute('/api/v1/elders/e1?reveal=true')).toMatchObject({ service: 'registry', internalUrl: '/elders/e1?reveal=true', publicPath: 'elders/e1' });
    expect(resolveRoute('/api/v1/orders')).toMatchObject({ service: 'dispatch', internalUrl: '/orders' });
    expect(resolveRoute('/api/v1/ledger/x')).toMatchObject({ service: 'billing' });
    expect(resolveRoute('/api/v1/alerts')).toMatchObject({ service: 'monitoring' });
  });

  it('publishes the registry audit log as registry-audit and keeps /audit for the gateway', () => {
    expect(resolveRoute('/api/v1/registry-audit?page=2')).toMatchObject({ service: 'registry', internalUrl: '/audit?page=2' });
    expect(resolveRoute('/api/v1/audit')).toBeUndefined();
    expect(publicPathOf('registry', '/audit')).toBe('/api/v1/registry-audit');
    expect(publicPathOf('registry', '/health')).toBeUndefined();
  });

  it('refuses path tricks instead of normalising them', () => {
    for (const url of ['/api/v1/elders/../users', '/api/v1/elders/./x', '/api/v1/elders//x', '/api/v1/elders/a%2fb', '/api/v1/elders/a%5Cb']) {
      expect(resolveRoute(url)).toBeUndefined();
    }
  });

  it('names the owner of a public URL from its first segment, and none for the gateway\'s own', () => {
    expect(ownerOfPublicUrl('/api/v1/regions')).toBe('registry');
    expect(ownerOfPublicUrl('/api/v1/regions?page=2')).toBe('registry');
    expect(ownerOfPublicUrl('/api/v1/registry-audit/x')).toBe('registry');
    expect(ownerOfPublicUrl('/api/v1/my-day')).toBe('dispatch');
    for (const own of [...GATEWAY_SEGMENTS, 'nothing', '']) expect(ownerOfPublicUrl(`/api/v1/${own}`)).toBeUndefined();
    expect(ownerOfPublicUrl('/health')).toBeUndefined();
  });

  it('takes exactly the forwarded segments out of the service kit\'s access log, never the gateway\'s own', () => {
    const excluded = FORWARDED_ROUTES.map((r) => r.path.split('/')[2].replace('{', ''));
    expect(excluded).toHaveLength(Object.values(SEGMENTS).flat().length);
    expect(excluded).toContain('registry-audit');
    for (const own of GATEWAY_SEGMENTS) expect(excluded).not.toContain(own);
    for (const segment of excluded) expect(ownerOfPublicUrl(`/api/v1/${segment}`)).toBeDefined();
  });

  it('gives every segment of the routing table at least one rule', () => {
    for (const [service, segments] of Object.entries(SEGMENTS)) {
      for (const segment of segments) {
        const publicSegment = service === 'registry' && segment === 'audit' ? 'registry-audit' : segment;
        expect(ROUTE_RULES.some((r) => r.service === service && r.pattern.split('/')[0] === publicSegment)).toBe(true);
      }
    }
  });
});

describe('route-by-role matrix', () => {
  it('lets auditors read but never write anywhere', () => {
    for (const rule of ROUTE_RULES.filter((r) => r.service !== 'gateway' && r.methods.some((m) => m !== 'GET'))) {
      expect(rule.roles).not.toContain('auditor');
    }
    expect(authorise('auditor', 'GET', ['elders'])).toMatchObject({ allowed: true });
    expect(authorise('auditor', 'POST', ['elders'])).toEqual({ allowed: false, reason: 'ROLE' });
  });

  it('keeps elders, guardians and caregivers out of administration', () => {
    for (const role of ['elder', 'guardian', 'caregiver'] as const) {
      expect(authorise(role, 'PUT', ['regions', '130203000000']).allowed).toBe(false);
      expect(authorise(role, 'POST', ['providers']).allowed).toBe(false);
      expect(authorise(role, 'GET', ['registry-audit']).allowed).toBe(false);
      expect(authorise(role, 'POST', ['elders', 'import']).allowed).toBe(false);
    }
    expect(authorise('caregiver', 'GET', ['caregivers', 'c1'])).toMatchObject({ allowed: true });
    expect(authorise('caregiver', 'GET', ['caregivers'])).toMatchObject({ allowed: false });
  });

  it('matches parameters and trailing slashes, HEAD as GET, and denies unknown routes', () => {
    expect(authorise('civil_affairs_admin', 'POST', ['elders', 'e1', 'status'])).toMatchObject({ allowed: true });
    expect(authorise('civil_affairs_admin', 'HEAD', ['elders', ''])).toMatchObject({ allowed: true });
    expect(authorise('civil_affairs_admin', 'DELETE', ['elders', 'e1'])).toEqual({ allowed: false, reason: 'NO_ROUTE' });
    expect(authorise('civil_affairs_admin', 'GET', ['elders', 'e1', 'secret'])).toEqual({ allowed: false, reason: 'NO_ROUTE' });
  });

  it('is written down in docs/api/route-matrix.md exactly as enforced', () => {
    const doc = readFileSync(path.join(__dirname, '../../../../docs/api/route-matrix.md'), 'utf8');
    expect(doc).toContain(renderRouteMatrix());
    expect(ALL_ROLES).toHaveLength(7);
  });
});
