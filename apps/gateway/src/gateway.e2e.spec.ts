import 'reflect-metadata';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { request as undiciRequest } from 'undici';
import { fastPathOf } from './bootstrap';
import { ALL_ROLES, ROUTE_RULES } from './proxy/route-matrix';
import { UPSTREAMS } from './proxy/routing';
import { ApiError, client, LUBEI, LUBEI_COMMUNITY, LUNAN, PASSWORD, seedScenario, type Scenario } from './testing/scenario';
import { idCardNumber, ROOT_ADMIN, startStack, stopProcess, type Stack } from './testing/stack';

/**
 * The gateway in front of the REAL services (each its own process, real Kafka and database):
 * what a user of the public API notices — sign-in, scope, masking, audit, defences, outages.
 */
jest.setTimeout(420_000);

const consoleDir = mkdtempSync(path.join(tmpdir(), 'yiyang-console-'));
mkdirSync(path.join(consoleDir, 'assets'));
writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>颐养</title><div id="root"></div>');
writeFileSync(path.join(consoleDir, 'assets', 'app-1a2b.js'), 'console.log(1)');

describe('gateway with the real services behind it', () => {
  let stack: Stack;
  let s: Scenario;
  const tag = `T${Date.now().toString(36).toUpperCase()}`;
  const db = process.env['MONGO_DB'] ?? `test_gateway_${Date.now()}`;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON bodies
  type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
  const raw = (method: string, url: string, init: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {}): Promise<JsonResponse> =>
    fetch(`${stack.url}${url}`, {
      method,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
  const api = (method: string, p: string, token?: string, body?: unknown, headers: Record<string, string> = {}) =>
    raw(method, `/api/v1${p}`, { token, body, headers: { 'accept-language': 'en', ...headers } });

  beforeAll(async () => {
    stack = await startStack({
      services: UPSTREAMS,
      required: ['registry'],
      dbBase: db,
      gatewayEnv: {
        CONSOLE_DIR: consoleDir,
        CORS_ORIGINS: 'https://console.example.gov.cn',
        RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
        RATE_LIMIT_IP_PER_MINUTE: '5000',
        LOCKOUT_THRESHOLD: '3',
        UPSTREAM_TIMEOUT_MS: '60000',
        // Every direct-path read pipelined (the default waits for 8 in flight): the real services
        // answer pipelined requests through the whole suite, the concurrent tests included.
        UPSTREAM_PIPELINE_ABOVE: '0',
      },
    });
    s = await seedScenario(stack.url, tag);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('accounts and sign-in', () => {
    it('signs in, rotates the refresh token, and a reused refresh token ends the whole session', async () => {
      const first = await (await api('POST', '/auth/login', undefined, { username: `lubei-admin-${tag}`, password: PASSWORD })).json();
      expect(first).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, user: { username: `lubei-admin-${tag}`.toLowerCase(), role: 'civil_affairs_admin', regionCode: LUBEI } });
      expect((await api('GET', '/me', first.accessToken)).status).toBe(200);

      const second = await (await api('POST', '/auth/refresh', undefined, { refreshToken: first.refreshToken })).json();
      expect(second.refreshToken).not.toBe(first.refreshToken);
      const third = await (await api('POST', '/auth/refresh', undefined, { refreshToken: second.refreshToken })).json();
      expect((await api('GET', '/me', third.accessToken)).status).toBe(200);

      // The first token again: a thief or a replay. The family is revoked — including the newest tokens.
      const reuse = await api('POST', '/auth/refresh', undefined, { refreshToken: first.refreshToken });
      expect(reuse.status).toBe(401);
      expect(await reuse.json()).toMatchObject({ code: 'AUTH.REFRESH_TOKEN_REUSED' });
      expect((await api('POST', '/auth/refresh', undefined, { refreshToken: third.refreshToken })).status).toBe(401);
      const me = await api('GET', '/me', third.accessToken);
      expect(me.status).toBe(401);
      expect(await me.json()).toMatchObject({ code: 'AUTH.SESSION_REVOKED' });
    });

    it('logout ends the session; wrong credentials answer 401 in the caller\'s language', async () => {
      const t = await (await api('POST', '/auth/login', undefined, { username: `lubei-auditor-${tag}`, password: PASSWORD })).json();
      expect((await api('POST', '/auth/logout', undefined, { refreshToken: t.refreshToken })).status).toBe(204);
      expect((await api('GET', '/me', t.accessToken)).status).toBe(401);
      expect((await api('POST', '/auth/refresh', undefined, { refreshToken: t.refreshToken })).status).toBe(401);

      const zh = await api('POST', '/auth/login', undefined, { username: `lubei-auditor-${tag}`, password: 'Wrong-Passw0rd!' }, { 'accept-language': 'zh-CN' });
      expect(zh.status).toBe(401);
      const body = await zh.json();
      expect(body).toEqual({ code: 'AUTH.INVALID_CREDENTIALS', message: '用户名或密码错误', correlationId: expect.any(String) });
      const en = await (await api('POST', '/auth/login', undefined, { username: 'nobody-at-all', password: 'Wrong-Passw0rd!' })).json();
      expect(en).toMatchObject({ code: 'AUTH.INVALID_CREDENTIALS', message: 'Wrong username or password' });
    });

    it('locks an account after repeated failures (423, even with the right password) until an admin unlocks it', async () => {
      const username = `lubei-elder-${tag}`;
      for (let i = 0; i < 2; i++) expect((await api('POST', '/auth/login', undefined, { username, password: `Wrong-Passw0rd-${i}` })).status).toBe(401);
      const locking = await api('POST', '/auth/login', undefined, { username, password: 'Wrong-Passw0rd-3' });
      expect(locking.status).toBe(423);
      const locked = await api('POST', '/auth/login', undefined, { username, password: PASSWORD });
      expect(locked.status).toBe(423);
      expect(await locked.json()).toMatchObject({ code: 'AUTH.ACCOUNT_LOCKED', details: { retryAfterSeconds: expect.any(Number) } });
      // Another district's admin cannot even see the account; its own admin unlocks it.
      expect((await api('PATCH', `/users/${username}`, s.lunan.tokens.admin, { unlock: true })).status).toBe(404);
      expect((await api('PATCH', `/users/${username}`, s.lubei.tokens.admin, { unlock: true })).status).toBe(200);
      expect((await api('POST', '/auth/login', undefined, { username, password: PASSWORD })).status).toBe(200);
    });

    it('enforces password rules and rejects unknown fields on its own routes', async () => {
      const weak = await api('POST', '/users', s.lubei.tokens.admin, { username: `weak-${tag}`.toLowerCase(), displayName: 'x', password: 'password', role: 'auditor', regionCode: LUBEI });
      expect(weak.status).toBe(400);
      expect(await weak.json()).toMatchObject({ code: 'AUTH.PASSWORD_TOO_SHORT', field: 'password' });
      const extra = await api('POST', '/auth/login', undefined, { username: 'root', password: 'x', isAdmin: true });
      expect(extra.status).toBe(400);
      expect(await extra.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT' });
      expect((await api('GET', '/users?role=auditor&sort=password', s.lubei.tokens.admin)).status).toBe(400);
    });

    it('lets an admin create users only inside their own region, bound to records the registry shows them', async () => {
      const user = (suffix: string, extra: Record<string, unknown>) => ({ username: `u${suffix}-${tag}`.toLowerCase(), displayName: 'U', password: PASSWORD, ...extra });
      expect((await api('POST', '/users', s.lubei.tokens.admin, user('1', { role: 'auditor', regionCode: LUNAN }))).status).toBe(403);
      expect((await api('POST', '/users', s.lubei.tokens.admin, user('2', { role: 'auditor', regionCode: '130203001000' }))).status).toBe(201);
      const foreignProvider = await api('POST', '/users', s.lubei.tokens.admin, user('3', { role: 'provider_operator', regionCode: LUBEI, providerId: s.lunan.providerId }));
      expect(foreignProvider.status).toBe(422);
      expect(await foreignProvider.json()).toMatchObject({ code: 'USERS.BINDING_NOT_IN_SCOPE', field: 'providerId' });
      const foreignElder = await api('POST', '/users', s.lubei.tokens.admin, user('4', { role: 'guardian', regionCode: LUBEI, elderIds: [s.lunan.elderId] }));
      expect(foreignElder.status).toBe(422);
      expect((await api('POST', '/users', s.lubei.tokens.operator, user('5', { role: 'auditor', regionCode: LUBEI }))).status).toBe(403);
      const listed = await (await api('GET', '/users?pageSize=200', s.lubei.tokens.admin)).json();
      expect(listed.items.length).toBeGreaterThan(0);
      expect(listed.items.every((u: { regionCode: string }) => u.regionCode.startsWith('130203'))).toBe(true);
      expect(JSON.stringify(listed)).not.toContain('passwordHash');
      expect((await api('GET', `/users/lunan-admin-${tag}`.toLowerCase(), s.lubei.tokens.admin)).status).toBe(404);
    });
  });

  describe('authorisation on every route', () => {
    const concrete = (pattern: string) => pattern.replace(/:[^/]+/g, 'x1').replace('/**', '');

    it('refuses, before any service is asked, every role the route matrix excludes (403, nothing learnt)', async () => {
      let checked = 0;
      for (const rule of ROUTE_RULES.filter((r) => r.service !== 'gateway' && !r.anonymous)) {
        for (const role of ALL_ROLES.filter((r) => !rule.roles.includes(r))) {
          const short = ({ civil_affairs_admin: 'admin', provider_operator: 'operator' } as Record<string, string>)[role] ?? role;
          const token = s.lubei.tokens[short as keyof Scenario['lubei']['tokens']];
          const method = rule.methods[0];
          const res = await api(method, `/${concrete(rule.pattern)}`, token, method === 'GET' ? undefined : {});
          expect({ rule: `${method} ${rule.pattern}`, role, status: res.status }).toEqual({ rule: `${method} ${rule.pattern}`, role, status: 403 });
          expect(Object.keys(await res.json()).sort()).toEqual(['code', 'correlationId', 'message']);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(150);
    });

    it('answers 401 without a token and 404 for routes that do not exist', async () => {
      expect((await api('GET', '/elders')).status).toBe(401);
      expect((await api('GET', '/elders', 'not-a-jwt')).status).toBe(401);
      expect((await api('GET', '/nonexistent', s.lubei.tokens.admin)).status).toBe(404);
      expect((await api('DELETE', `/elders/${s.lubei.elderId}`, s.lubei.tokens.admin)).status).toBe(404);
      expect((await api('GET', `/elders/..%2Fusers`, s.lubei.tokens.admin)).status).toBe(404);
    });

    it('registry: another region, provider or family gets 403/404 on every registry route and learns nothing', async () => {
      const L = s.lubei;
      const N = s.lunan;
      const cases: [string, string, string, unknown?][] = [
        // [who, method, path, body]
        [N.tokens.admin, 'GET', `/regions/${LUBEI_COMMUNITY}`],
        [N.tokens.admin, 'PUT', `/regions/${LUBEI_COMMUNITY}`, { name: '篡改', centre: { lat: 39.6, lng: 118.1 } }],
        [N.tokens.admin, 'GET', `/elders/${L.elderId}`],
        [N.tokens.admin, 'GET', `/elders/${L.elderId}?reveal=true`],
        [N.tokens.assessor, 'GET', `/elders/${L.elderId}`],
        [N.tokens.auditor, 'GET', `/elders/${L.elderId}`],
        [N.tokens.guardian, 'GET', `/elders/${L.elderId}`],
        [N.tokens.elder, 'GET', `/elders/${L.elderId}`],
        [N.tokens.admin, 'PATCH', `/elders/${L.elderId}`, { homeAddress: '篡改' }],
        [N.tokens.admin, 'POST', `/elders/${L.elderId}/status`, { status: 'DECEASED', reason: 'x', effectiveOn: '2026-01-01' }],
        [N.tokens.admin, 'POST', `/elders/${L.elderId}/assessments`, {}],
        [N.tokens.guardian, 'GET', `/elders/${L.elderId}/assessments`],
        [N.tokens.admin, 'GET', `/providers/${L.providerId}`],
        [N.tokens.operator, 'GET', `/providers/${L.providerId}`],
        [N.tokens.admin, 'PUT', `/providers/${L.providerId}`, { name: 'x', type: 'COMPANY', licenceNumber: 'HIJACK-1', contactPhone: '0315-1111111', serviceAreas: ['130202001000'] }],
        [N.tokens.admin, 'POST', `/providers/${L.providerId}/contracts`, { areas: [LUBEI_COMMUNITY], startsOn: '2026-01-01', endsOn: '2026-12-31' }],
        [N.tokens.admin, 'GET', `/caregivers/${L.caregiverId}`],
        [N.tokens.operator, 'GET', `/caregivers/${L.caregiverId}`],
        [N.tokens.caregiver, 'GET', `/caregivers/${L.caregiverId}`],
        [N.tokens.operator, 'PUT', `/caregivers/${L.caregiverId}`, { providerId: L.providerId, kind: 'CAREGIVER', name: 'x', gender: 'MALE', regionCode: LUBEI_COMMUNITY, homeBase: { lat: 39.6, lng: 118.1 } }],
        [N.tokens.operator, 'POST', '/caregivers', { providerId: L.providerId, kind: 'CAREGIVER', name: 'x', gender: 'MALE', regionCode: LUBEI_COMMUNITY, homeBase: { lat: 39.6, lng: 118.1 } }],
        [N.tokens.admin, 'GET', `/facilities/${L.facilityId}`],
        [N.tokens.operator, 'GET', `/facilities/${L.facilityId}`],
        [N.tokens.admin, 'PUT', `/facilities/${L.facilityId}`, { kind: 'STREET_CENTRE', name: 'x', regionCode: '130203001000', address: 'x', location: { lat: 39.6, lng: 118.1 }, capacity: 1, beds: { total: 1, nursing: 0, occupied: 0 } }],
        [N.tokens.operator, 'PATCH', `/facilities/${L.facilityId}/beds`, { occupied: 0 }],
        [N.tokens.admin, 'POST', '/family-care-beds', { elderId: L.elderId, since: '2026-01-01' }],
        [N.tokens.admin, 'POST', '/elders', { name: 'x', gender: 'MALE', birthDate: '1940-01-01', idCardNumber: L.idCardNumber, regionCode: LUBEI_COMMUNITY, homeAddress: 'x', home: { lat: 39.6, lng: 118.1 } }],
        [N.tokens.admin, 'GET', `/coverage/${LUBEI}`],
        [N.tokens.operator, 'PUT', `/catalogue/prices/${L.providerId}/MEAL_DELIVERY`, { priceFen: 1, effectiveFrom: '2030-01-01' }],
      ];
      const before = await (await api('GET', `/elders/${L.elderId}`, L.tokens.admin)).json();
      for (const [token, method, p, body] of cases) {
        const res = await api(method, p, token, body);
        const text = await res.text();
        // Reads: 403/404 only. Writes may also be refused for their body first (400/422) — either
        // way nothing is written (checked below) and nothing about the record comes back.
        const refused = method === 'GET' ? [403, 404] : [400, 403, 404, 422];
        expect({ case: `${method} ${p}`, status: refused.includes(res.status) ? 'refused' : res.status }).toEqual({ case: `${method} ${p}`, status: 'refused' });
        for (const secret of [L.idCardNumber, L.phone, '路北区', 'lubei老人', 'lubei小区']) expect(text).not.toContain(secret);
      }
      const after = await (await api('GET', `/elders/${L.elderId}`, L.tokens.admin)).json();
      expect(after).toEqual(before);
      expect((await (await api('GET', `/regions/${LUBEI_COMMUNITY}`, L.tokens.admin)).json()).name).toBe('文北社区');
      // Lists answer, but with nothing of the other district in them.
      const lists: [string, string][] = [
        [N.tokens.admin, '/elders?pageSize=200'],
        [N.tokens.guardian, '/elders'],
        [N.tokens.admin, '/providers?pageSize=200'],
        [N.tokens.operator, '/providers'],
        [N.tokens.operator, '/caregivers?pageSize=200'],
        [N.tokens.admin, '/facilities?pageSize=200'],
        [N.tokens.operator, '/contracts'],
        [N.tokens.auditor, '/registry-audit?pageSize=200'],
      ];
      for (const [token, p] of lists) {
        const res = await api('GET', p, token);
        expect({ p, status: res.status }).toEqual({ p, status: 200 });
        const text = await res.text();
        for (const id of [L.elderId, L.providerId, L.caregiverId, L.facilityId]) expect(text).not.toContain(id);
      }
    });

    it('the other services: another scope sees none of this district (routes that exist now)', async () => {
      const probes: [string, string][] = [
        ['dispatch', '/orders'],
        ['dispatch', '/emergencies'],
        ['billing', '/accounts'],
        ['billing', '/entitlements'],
        ['monitoring', '/alerts'],
        ['monitoring', '/devices'],
      ];
      for (const [service, p] of probes) {
        if (!stack.services[service as keyof Stack['services']]) continue;
        for (const token of [s.lunan.tokens.admin, s.lunan.tokens.guardian]) {
          const res = await api('GET', p, token);
          expect(res.status).toBeLessThan(500);
          const text = await res.text();
          for (const id of [s.lubei.elderId, s.lubei.providerId, s.lubei.idCardNumber]) expect(text).not.toContain(id);
        }
      }
    });
  });

  describe('personal data and audit', () => {
    it('keeps ID numbers and phones masked unless an allowed role asks, and audits each unmasked read', async () => {
      const masked = await (await api('GET', `/elders/${s.lubei.elderId}`, s.lubei.tokens.guardian)).text();
      expect(masked).not.toContain(s.lubei.idCardNumber);
      expect(masked).not.toContain(s.lubei.phone);
      for (const role of ['guardian', 'elder', 'auditor'] as const) {
        const res = await api('GET', `/elders/${s.lubei.elderId}?reveal=true`, s.lubei.tokens[role]);
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ code: 'AUTH.REVEAL_FORBIDDEN' });
      }
      const correlationId = `reveal-${tag}`;
      const revealed = await api('GET', `/elders/${s.lubei.elderId}?reveal=true`, s.lubei.tokens.assessor, undefined, { 'x-correlation-id': correlationId });
      expect(revealed.status).toBe(200);
      expect(await revealed.text()).toContain(s.lubei.idCardNumber);

      const log = await (await api('GET', `/audit?action=PII_UNMASKED_READ&correlationId=${correlationId}`, s.lubei.tokens.auditor)).json();
      expect(log.items).toEqual([
        expect.objectContaining({ action: 'PII_UNMASKED_READ', actor: { userId: `lubei-assessor-${tag}`.toLowerCase(), role: 'assessor' }, path: `/api/v1/elders/${s.lubei.elderId}`, correlationId, ip: expect.any(String) }),
      ]);
      expect((await (await api('GET', `/audit?correlationId=${correlationId}`, s.lunan.tokens.auditor)).json()).total).toBe(0);
    });

    it('writes every forwarded write to the append-only audit log, queryable by auditors only', async () => {
      const correlationId = `write-${tag}`;
      const res = await api('PUT', '/regions/130203001000', s.lubei.tokens.admin, { name: '乔屯街道', centre: { lat: 39.64, lng: 118.17 } }, { 'x-correlation-id': correlationId });
      expect(res.status).toBe(200);
      const log = await (await api('GET', `/audit?correlationId=${correlationId}`, s.lubei.tokens.auditor)).json();
      expect(log.items[0]).toMatchObject({ action: 'API_WRITE', method: 'PUT', path: '/api/v1/regions/130203001000', status: 200, actor: { role: 'civil_affairs_admin' } });
      expect((await api('GET', '/audit', s.lubei.tokens.operator)).status).toBe(403);
      expect((await api('DELETE', '/audit', s.lubei.tokens.auditor)).status).toBe(404);
    });
  });

  describe('defences', () => {
    it('accepts JSON only, bounds bodies and arrays, and sends security headers', async () => {
      const text = await raw('POST', '/api/v1/auth/login', { headers: { 'content-type': 'text/plain' }, rawBody: 'username=root' });
      expect(text.status).toBe(415);
      expect(await text.json()).toMatchObject({ code: 'VALIDATION.UNSUPPORTED_MEDIA_TYPE' });
      const form = await raw('POST', '/api/v1/elders', { token: s.lubei.tokens.admin, headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: 'a=1' });
      expect(form.status).toBe(415);
      const multipart = await raw('POST', '/api/v1/providers', { token: s.lubei.tokens.admin, headers: { 'content-type': 'multipart/form-data; boundary=x' }, rawBody: '--x--' });
      expect(multipart.status).toBe(415);
      const big = await raw('POST', '/api/v1/auth/login', { headers: { 'content-type': 'application/json' }, rawBody: JSON.stringify({ username: 'a', password: 'x'.repeat(1_100_000) }) });
      expect(big.status).toBe(413);
      const long = await api('POST', '/users', s.lubei.tokens.admin, { elderIds: Array.from({ length: 1_001 }, (_, i) => `e${i}`) });
      expect(long.status).toBe(400);
      expect(await long.json()).toMatchObject({ code: 'VALIDATION.ARRAY_TOO_LONG', field: 'elderIds' });
      const bad = await raw('POST', '/api/v1/auth/login', { headers: { 'content-type': 'application/json' }, rawBody: '{"__proto__":{"x":1}}' });
      expect(bad.status).toBe(400);

      const res = await api('GET', '/me', s.lubei.tokens.admin);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age/);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-correlation-id')).toBeTruthy();
    });

    it('allows cross-origin calls only from the configured origins', async () => {
      const preflight = (origin: string) =>
        raw('OPTIONS', '/api/v1/elders', { headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      expect((await preflight('https://console.example.gov.cn')).headers.get('access-control-allow-origin')).toBe('https://console.example.gov.cn');
      expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
    });

    it('rate-limits per user and per IP', async () => {
      const { createGatewayApp } = await import('./bootstrap');
      const strict = await createGatewayApp(
        { MONGO_DB: db, RATE_LIMIT_USER_PER_MINUTE: '5', RATE_LIMIT_IP_PER_MINUTE: '3', REGISTRY_URL: stack.services.registry!.url, LOG_LEVEL: 'warn' },
        { logger: false },
      );
      try {
        const statuses = async (n: number, headers: Record<string, string>, url: string) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) out.push((await strict.inject({ method: 'GET', url, headers })).statusCode);
          return out;
        };
        const user = await statuses(7, { authorization: `Bearer ${s.lubei.tokens.auditor}` }, '/api/v1/regions');
        expect(user.slice(0, 5).every((c) => c === 200)).toBe(true);
        expect(user.slice(5)).toEqual([429, 429]);
        // another user has a budget of its own
        expect((await statuses(1, { authorization: `Bearer ${s.lubei.tokens.admin}` }, '/api/v1/regions'))[0]).toBe(200);
        const anonymous = await statuses(4, {}, '/api/v1/regions');
        expect(anonymous).toEqual([401, 401, 401, 429]);
        const limited = await strict.inject({ method: 'GET', url: '/api/v1/regions', headers: { 'accept-language': 'en' } });
        expect(limited.json()).toMatchObject({ code: 'GATEWAY.RATE_LIMITED' });
        expect(limited.headers['retry-after']).toBeDefined();

        // Over real HTTP, where signed-in reads are answered in front of Fastify: the same counters.
        await strict.listen(0, '127.0.0.1');
        const url = `http://127.0.0.1:${(strict.getHttpServer().address() as { port: number }).port}/api/v1/regions`;
        const fetched: number[] = [];
        let last: Response | undefined;
        for (let i = 0; i < 7; i++) {
          last = await fetch(url, { headers: { authorization: `Bearer ${s.lubei.tokens.assessor}`, 'accept-language': 'en' } });
          fetched.push(last.status);
          if (i === 0) expect(last.headers.get('x-ratelimit-limit')).toBe('5');
        }
        expect(fetched).toEqual([200, 200, 200, 200, 200, 429, 429]);
        expect(fastPathOf(strict)!.taken).toBeGreaterThanOrEqual(3);
        expect(last!.headers.get('retry-after')).toBeDefined();
        expect(await last!.json()).toMatchObject({ code: 'GATEWAY.RATE_LIMITED' });
      } finally {
        await strict.close();
      }
    });
  });

  describe('one door', () => {
    it('serves one OpenAPI document over all services, under /api/v1, with bearer security', async () => {
      const doc = await (await raw('GET', '/api/docs/openapi.json')).json();
      expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
      expect(doc.paths['/api/v1/elders/{id}'].get).toMatchObject({ security: [{ bearer: [] }], 'x-yiyang-roles': expect.arrayContaining(['civil_affairs_admin']) });
      expect(doc.paths['/api/v1/registry-audit']).toBeDefined();
      expect(doc.paths['/health']).toBeUndefined();
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(Object.keys(doc.paths).every((p: string) => p.startsWith('/api/v1/'))).toBe(true);
      expect((await raw('GET', '/api/docs')).status).toBe(200);
    });

    it('serves the console at / with SPA fallback, and never for API paths', async () => {
      const index = await raw('GET', '/');
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('颐养');
      expect(await (await raw('GET', '/elders/123/edit')).text()).toContain('颐养');
      const asset = await raw('GET', '/assets/app-1a2b.js');
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await raw('GET', '/assets/missing.js')).status).toBe(404);
      for (const trick of ['/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd']) {
        const res = await raw('GET', trick);
        expect(await res.text()).not.toContain('root:');
      }
      expect((await raw('GET', '/api/v2/elders')).status).toBe(404);
    });

    it('answers signed-in reads directly (in front of Fastify) with the same status, body, headers and error shape as the Fastify path', async () => {
      const fastPath = fastPathOf(stack.gateway)!;
      const token = s.lubei.tokens.admin;
      const both = async (p: string, headers: Record<string, string> = {}) => {
        await api('GET', p, token); // the token and its session are known from here on
        const before = fastPath.taken;
        const direct = await api('GET', p, token, undefined, { 'x-correlation-id': `direct-${tag}`, ...headers });
        const tookDirect = fastPath.taken - before;
        fastPath.enabled = false;
        try {
          const viaFastify = await api('GET', p, token, undefined, { 'x-correlation-id': `direct-${tag}`, ...headers });
          return { direct, viaFastify, tookDirect, taken: fastPath.taken - before };
        } finally {
          fastPath.enabled = true;
        }
      };
      const varying = new Set(['date', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'keep-alive']);
      const comparable = (res: Response) => [...res.headers].filter(([name]) => !varying.has(name));

      const list = await both('/regions');
      expect(list.tookDirect).toBe(1);
      expect(list.taken).toBe(1);
      expect(list.direct.status).toBe(200);
      expect(await list.direct.text()).toBe(await list.viaFastify.text());
      expect(comparable(list.direct)).toEqual(comparable(list.viaFastify));
      expect(list.direct.headers.get('x-correlation-id')).toBe(`direct-${tag}`);
      expect(list.direct.headers.get('vary')).toBe('Origin'); // CORS origins are configured in this stack
      expect(list.direct.headers.get('access-control-expose-headers')).toContain('x-correlation-id');
      expect(list.direct.headers.get('x-ratelimit-limit')).toBeTruthy();

      // A service's refusal (unknown elder), rewritten into the public shape in the caller's language, on both paths.
      const missing = await both('/elders/no-such-elder', { 'accept-language': 'zh-CN' });
      expect(missing.tookDirect).toBe(1);
      expect([400, 404]).toContain(missing.direct.status);
      expect(missing.direct.status).toBe(missing.viaFastify.status);
      const body = await missing.direct.json();
      expect(body).toEqual(await missing.viaFastify.json());
      expect(body).toMatchObject({ code: expect.stringMatching(/^[A-Z]+\./), correlationId: `direct-${tag}` });
      expect(comparable(missing.direct)).toEqual(comparable(missing.viaFastify));

      // What it must not answer itself goes to Fastify: audited reveal, CORS, writes, refused roles, no token.
      const before = fastPath.taken;
      expect((await api('GET', `/elders/${s.lubei.elderId}?reveal=idCardNumber`, s.lubei.tokens.operator)).status).toBe(403);
      await api('GET', '/regions', token, undefined, { origin: 'https://console.example.gov.cn' });
      expect((await api('GET', '/regions', s.lubei.tokens.caregiver)).status).toBe(403);
      expect((await api('GET', '/regions')).status).toBe(401);
      expect((await api('GET', '/regions//x', token)).status).toBe(404);
      expect(fastPath.taken).toBe(before);
    });

    it('passes a roster upload (multipart CSV) through to the registry and returns its per-row error report', async () => {
      const good = idCardNumber('130203', '1944-02-03', `${String(Math.floor(Math.random() * 90) + 10)}2`);
      const bad = idCardNumber('130203', '1945-03-04', `${String(Math.floor(Math.random() * 90) + 10)}2`);
      const badChecksum = bad.slice(0, 17) + (bad[17] === '0' ? '1' : '0');
      const csv = [
        '姓名,性别（男/女）,身份证号,出生日期,联系电话,社区代码,家庭住址,纬度,经度,人员类别,监护人姓名,监护人关系,监护人电话',
        `周秀兰,女,${good},1944-02-03,13831500011,${LUBEI_COMMUNITY},文北社区7号楼1单元201,39.6412,118.1731,空巢,,,`,
        `吴玉梅,女,${badChecksum},,,${LUBEI_COMMUNITY},文北社区8号楼,39.6413,118.1732,,,,`,
      ].join('\n');
      const boundary = `----gateway${Date.now()}`;
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\nContent-Type: text/csv\r\n\r\n`),
        Buffer.from(`\uFEFF${csv}\n`),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await fetch(`${stack.url}/api/v1/elders/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.lubei.tokens.admin}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'accept-language': 'en' },
        body,
      });
      expect(res.status).toBe(201);
      const report = (await res.json()) as { importId: string; errors: { row: number; column: string; code: string }[] };
      expect(report).toMatchObject({ format: 'csv', totalRows: 2, created: 1, failed: 1 });
      expect(report.errors.map((e: { row: number; column: string; code: string }) => [e.row, e.column, e.code])).toEqual([[3, '身份证号', 'REGISTRY.ID_CARD_INVALID']]);
      // the error report downloads through the gateway too, as the file the registry wrote
      const errors = await api('GET', `/elders/import/${report.importId}/errors.csv`, s.lubei.tokens.admin);
      expect(errors.status).toBe(200);
      expect(errors.headers.get('content-type')).toContain('text/csv');
      expect((await errors.text()).split(/\r?\n/)[1]).toMatch(/^3,/);
      // another district's admin cannot read it; the write is on the audit log
      expect([403, 404]).toContain((await api('GET', `/elders/import/${report.importId}/errors.csv`, s.lunan.tokens.admin)).status);
      const audit = await (await api('GET', `/audit?correlationId=${encodeURIComponent(res.headers.get('x-correlation-id') ?? '')}`, s.lubei.tokens.admin)).json();
      expect(audit.items).toEqual([expect.objectContaining({ action: 'API_WRITE', method: 'POST', path: '/api/v1/elders/import' })]);
    });

    it('streams uploads to the service as they arrive (no buffering) and still bounds them', async () => {
      const received: { bytes: number; firstChunkSeen: () => void } = { bytes: 0, firstChunkSeen: () => undefined };
      const firstChunk = new Promise<void>((resolve) => (received.firstChunkSeen = resolve));
      const FIRST = 256 * 1024;
      const upstream = createServer((req, res) => {
        req.on('data', (chunk: Buffer) => {
          received.bytes += chunk.length;
          if (received.bytes >= FIRST) received.firstChunkSeen();
        });
        req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: received.bytes })));
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const { createGatewayApp } = await import('./bootstrap');
      const limit = 1024 * 1024;
      const gateway = await createGatewayApp(
        { MONGO_DB: db, REGISTRY_URL: `http://127.0.0.1:${(upstream.address() as { port: number }).port}`, IMPORT_BODY_LIMIT_BYTES: String(limit), LOG_LEVEL: 'warn' },
        { logger: false },
      );
      await gateway.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${(gateway.getHttpServer().address() as { port: number }).port}`;
      const headers = { authorization: `Bearer ${s.lubei.tokens.admin}`, 'content-type': 'multipart/form-data; boundary=x', 'accept-language': 'en' };
      try {
        // The second half is only sent once the service has the first: a buffering gateway would wait forever.
        let secondSent = false;
        async function* slowUpload() {
          yield Buffer.alloc(FIRST, 'a');
          await firstChunk;
          secondSent = true;
          yield Buffer.alloc(FIRST, 'b');
        }
        const ok = await undiciRequest(`${base}/api/v1/elders/import`, { method: 'POST', headers, body: Readable.from(slowUpload()) });
        expect(ok.statusCode).toBe(201);
        expect(await ok.body.json()).toEqual({ bytes: 2 * FIRST });
        expect(secondSent).toBe(true);

        // announced too large: refused before anything is forwarded
        const announced = await undiciRequest(`${base}/api/v1/elders/import`, { method: 'POST', headers: { ...headers, 'content-length': String(limit + 1) }, body: Buffer.alloc(limit + 1) });
        expect(announced.statusCode).toBe(413);
        expect(await announced.body.json()).toMatchObject({ code: 'VALIDATION.BODY_TOO_LARGE' });
        // chunked (no length announced): counted on the way and cut off at the limit
        async function* endless() {
          for (let i = 0; i < 8; i++) yield Buffer.alloc(256 * 1024, 'c');
        }
        const chunked = await undiciRequest(`${base}/api/v1/elders/import`, { method: 'POST', headers, body: Readable.from(endless()) }).catch((error: Error) => error);
        if (!(chunked instanceof Error)) {
          expect(chunked.statusCode).toBe(413);
          expect(await chunked.body.json()).toMatchObject({ code: 'VALIDATION.BODY_TOO_LARGE' });
        }
        // JSON bodies stay bounded by the 1 MiB JSON limit on the same gateway
        const json = await undiciRequest(`${base}/api/v1/elders`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(1_100_000) }) });
        expect(json.statusCode).toBe(413);
        await json.body.dump();
      } finally {
        await gateway.close();
        upstream.close();
      }
    });

    it('answers 503 GATEWAY.SERVICE_UNAVAILABLE at once when a service is down, and 401/403 still first', async () => {
      const victim = stack.services.monitoring ?? stack.services.billing;
      const p = stack.services.monitoring ? '/alerts' : '/accounts';
      if (victim) await stopProcess(victim.child);
      const started = Date.now();
      const res = await api('GET', p, s.lubei.tokens.admin);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ code: 'GATEWAY.SERVICE_UNAVAILABLE', message: expect.stringMatching(/unavailable/) });
      expect(res.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await api('GET', p)).status).toBe(401);
      expect((await api('POST', p, s.lubei.tokens.auditor, {})).status).toBe(403);
    });
  });

  it('creates the initial admin from the environment only', async () => {
    const root = await client(stack.url)<{ user: { role: string; regionCode: string } }>('POST', '/auth/login', undefined, ROOT_ADMIN);
    expect(root.user).toMatchObject({ role: 'civil_affairs_admin', regionCode: '130200000000' });
    await expect(client(stack.url)('POST', '/auth/login', undefined, { username: 'admin', password: 'admin' })).rejects.toBeInstanceOf(ApiError);
  });
});
