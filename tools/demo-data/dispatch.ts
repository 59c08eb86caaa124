/**
 * Dispatch's demo data for the demo district (Lubei, tools/demo-data/district.ts), loaded into a
 * RUNNING dispatch service over its HTTP API after the registry's data (dispatch learns elders,
 * caregivers, providers and contracts from registry events on its own):
 *
 *   - visiting-round rules for the district (configurable policy, the usual ones from the domain brief):
 *     living alone + 80+ weekly; destitute (特困) weekly; empty-nest monthly; severely disabled every two weeks;
 *   - one duty worker (社区值班) per community — the third rung of the emergency ladder;
 *   - the current period's rounds generated once.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/demo-data/dispatch.ts
 * Env: DISPATCH_URL (http://127.0.0.1:3002)  INTERNAL_TOKEN_SECRET (local default)
 *
 * Idempotent: rules and duty workers are PUT under fixed ids; round generation has deterministic ids.
 */
import { mintInternalToken } from '@yiyang/service-kit';
import { buildRegions, DISTRICT_CODE } from './district';
import { Prng } from './prng';

const BASE = (process.env['DISPATCH_URL'] ?? 'http://127.0.0.1:3002').replace(/\/$/, '');
const SECRET = process.env['INTERNAL_TOKEN_SECRET'] ?? 'yiyang-local-development-internal-token-secret';
const ADMIN = { userId: 'demo-loader', role: 'civil_affairs_admin' as const, regionCode: DISTRICT_CODE };
const say = (line: string) => process.stdout.write(`[demo-data:dispatch] ${line}\n`);

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${mintInternalToken(SECRET, ADMIN)}`,
      'x-correlation-id': `demo-dispatch-${Date.now().toString(36)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

export const ROUND_RULES = [
  { id: 'lubei-alone-80', name: '独居高龄老人每周巡访', allOf: ['LIVING_ALONE', 'ADVANCED_AGE'], minAge: 80, everyDays: 7 },
  { id: 'lubei-destitute', name: '特困老人每周巡访', allOf: ['DESTITUTE'], minAge: null, everyDays: 7 },
  { id: 'lubei-severely-disabled', name: '重残老人每两周巡访', allOf: ['SEVERELY_DISABLED'], minAge: null, everyDays: 14 },
  { id: 'lubei-empty-nest', name: '空巢老人每月巡访', allOf: ['EMPTY_NEST'], minAge: null, everyDays: 30 },
] as const;

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
const GIVEN = ['秀英', '桂兰', '建国', '丽华', '志强', '海燕', '玉梅', '文军', '淑珍', '国庆'];

export async function seedDispatch(): Promise<void> {
  for (const r of ROUND_RULES) {
    await call('PUT', `/round-rules/${r.id}`, { regionCode: DISTRICT_CODE, name: r.name, allOf: r.allOf, minAge: r.minAge, everyDays: r.everyDays });
  }
  say(`${ROUND_RULES.length} round rules`);
  const rand = new Prng('yiyang-lubei-dispatch');
  let duty = 0;
  for (const street of buildRegions()) {
    for (const community of street.communities) {
      const name = `${rand.pick(SURNAMES)}${rand.pick(GIVEN)}`;
      const phone = `0315-${rand.int(2_000_000, 9_999_999)}`;
      await call('PUT', `/duty-workers/duty-${community.code}`, { regionCode: community.code, name: `${community.name}值班 ${name}`, phone });
      duty++;
    }
  }
  say(`${duty} community duty workers`);
  const generated = await call<{ created: number; overdueMarked: number }>('POST', '/rounds/generate');
  say(`rounds generated: ${generated.created} new`);
}

if (require.main === module) {
  seedDispatch().catch((error) => {
    process.stderr.write(`[demo-data:dispatch] failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
