/**
 * Demo users for `npm start`, created through the RUNNING gateway's own users API — signed in as the
 * initial administrator (YIYANG_ADMIN_USERNAME / YIYANG_ADMIN_PASSWORD, a city-level admin created
 * by the gateway at first start) — after the registry's demo district is loaded:
 *
 *   admin         civil-affairs admin of Lubei district (130203000000)
 *   street-admin  civil-affairs admin of Lubei's first street
 *   operator      provider operator of the first demo provider
 *   caregiver     the first caregiver of that provider
 *   elder         the first elder on the roster (self)
 *   guardian      guardian of that elder
 *   assessor      assessor of Lubei
 *   auditor       auditor of Lubei (read-only)
 *
 * All with the password in YIYANG_DEMO_PASSWORD (it must meet the password rules: 10+ characters,
 * three of lower/upper/digit/symbol, not containing the username). Idempotent: a user that exists is
 * left as it is (its password is not reset).
 *
 *   node -r @swc-node/register tools/demo-data/gateway.ts
 * Env: GATEWAY_URL (http://127.0.0.1:3000)
 */
import { buildDistrict, buildRegions, DISTRICT_CODE } from './district';

const BASE = (process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const say = (line: string) => process.stdout.write(`[demo-data] ${line}\n`);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} → ${status} ${JSON.stringify(body).slice(0, 400)}`);
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the demo users need it`);
  return value;
}

async function call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: {
      'accept-language': 'en',
      'x-correlation-id': `demo-users-${Date.now().toString(36)}`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new HttpError(res.status, json, `${method} ${path}`);
  return json as T;
}

export async function seedGateway(): Promise<void> {
  const password = required('YIYANG_DEMO_PASSWORD');
  const { accessToken: token } = await call<{ accessToken: string }>('POST', '/auth/login', undefined, {
    username: required('YIYANG_ADMIN_USERNAME'),
    password: required('YIYANG_ADMIN_PASSWORD'),
  });

  const firstProvider = buildDistrict({ caregivers: 0 }).providers[0];
  let providerId: string | undefined;
  for (let page = 1; !providerId; page++) {
    const res = await call<{ items: { providerId: string; licenceNumber: string }[]; total: number }>('GET', `/providers?page=${page}&pageSize=200`, token);
    providerId = res.items.find((p) => p.licenceNumber === firstProvider.licenceNumber)?.providerId;
    if (res.items.length === 0 || page * 200 >= res.total) break;
  }
  if (!providerId) throw new Error(`the first demo provider (${firstProvider.licenceNumber}) is not in the registry: load the district first`);
  const caregiver = (await call<{ items: { caregiverId: string }[] }>('GET', `/caregivers?providerId=${providerId}&pageSize=1`, token)).items[0];
  const elder = (await call<{ items: { id: string }[] }>('GET', `/elders?pageSize=1`, token)).items[0];
  const street = buildRegions()[0].code;

  const users: Record<string, unknown>[] = [
    { username: 'admin', displayName: '路北区民政局管理员', role: 'civil_affairs_admin', regionCode: DISTRICT_CODE },
    { username: 'street-admin', displayName: '街道管理员', role: 'civil_affairs_admin', regionCode: street },
    { username: 'operator', displayName: '服务机构操作员', role: 'provider_operator', regionCode: DISTRICT_CODE, providerId },
    { username: 'assessor', displayName: '评估员', role: 'assessor', regionCode: DISTRICT_CODE },
    { username: 'auditor', displayName: '审计员', role: 'auditor', regionCode: DISTRICT_CODE },
  ];
  if (caregiver) users.push({ username: 'caregiver', displayName: '护理员', role: 'caregiver', regionCode: DISTRICT_CODE, caregiverId: caregiver.caregiverId, providerId });
  if (elder) {
    users.push({ username: 'elder', displayName: '老人', role: 'elder', regionCode: DISTRICT_CODE, elderIds: [elder.id] });
    users.push({ username: 'guardian', displayName: '家属', role: 'guardian', regionCode: DISTRICT_CODE, elderIds: [elder.id] });
  }
  let created = 0;
  for (const user of users) {
    try {
      await call('GET', `/users/${user['username']}`, token);
      continue;
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 404)) throw error;
    }
    try {
      await call('POST', '/users', token, { ...user, password });
      created++;
    } catch (error) {
      // Taken by an account outside the initial admin's region (or the initial admin itself): leave it.
      if (error instanceof HttpError && error.status === 409) continue;
      throw error;
    }
  }
  say(`gateway users: ${users.map((u) => u['username']).join(', ')} (${created} created)`);
}

if (require.main === module) {
  seedGateway().catch((error) => {
    process.stderr.write(`[demo-data] gateway users failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
