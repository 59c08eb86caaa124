/**
 * Monitoring's demo data for the demo district (Lubei), loaded into a RUNNING monitoring service over
 * its HTTP API after the registry's data (monitoring learns elders and facilities from registry
 * events on its own; the loader reads the lists from the registry's API to know whom to equip):
 *
 *   - one vendor platform (颐康物联) and its API key;
 *   - for elders living alone: an SOS button, a door sensor and, for one in three, a smart watch;
 *     for other elders of advanced age: a smart watch; one in ten: a blood-pressure meter;
 *   - a smoke and a gas detector in every institution (敬老院) — smart fire safety (智慧消防);
 *   - a simulator file (`.infra/demo/monitoring-devices.json`) with the vendor key and the devices,
 *     for tools/device-simulator/run.ts.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/demo-data/monitoring.ts
 * Env: MONITORING_URL (http://127.0.0.1:3004)  REGISTRY_URL (http://127.0.0.1:3001)  INTERNAL_TOKEN_SECRET
 *      DEMO_MONITORED_ELDERS (600: how many elders get devices)
 *
 * Idempotent: devices are keyed by (vendor, externalId) derived from the elder/facility id, an
 * existing one (409) is skipped; the vendor key is issued once and re-issued only when the
 * simulator file is missing (a key is never stored in clear by the service).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mintInternalToken } from '@yiyang/service-kit';
import { DISTRICT_CODE } from './district';

const BASE = (process.env['MONITORING_URL'] ?? 'http://127.0.0.1:3004').replace(/\/$/, '');
const REGISTRY = (process.env['REGISTRY_URL'] ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
const SECRET = process.env['INTERNAL_TOKEN_SECRET'] ?? 'yiyang-local-development-internal-token-secret';
const LIMIT = Number(process.env['DEMO_MONITORED_ELDERS'] ?? 600);
const ADMIN = { userId: 'demo-loader', role: 'civil_affairs_admin' as const, regionCode: DISTRICT_CODE };
const VENDOR = { vendorId: 'yikang-iot', name: '颐康物联 (demo vendor platform)' };
const SIM_FILE = resolve(process.env['DEMO_SIM_FILE'] ?? '.infra/demo/monitoring-devices.json');
const say = (line: string) => process.stdout.write(`[demo-data:monitoring] ${line}\n`);

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${mintInternalToken(SECRET, ADMIN)}`,
      'x-correlation-id': `demo-monitoring-${Date.now().toString(36)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = (text ? JSON.parse(text) : null) as T;
  if (!res.ok && res.status !== 409) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, body: parsed };
}

/** The registry's elder view (its id field is `id`). */
interface ElderItem {
  id: string;
  categories: string[];
  home: { lat: number; lng: number };
}
interface FacilityItem {
  facilityId: string;
  kind: string;
  location: { lat: number; lng: number };
}

async function pages<T>(path: string, max: number): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; out.length < max; page++) {
    const { body } = await call<{ items: T[]; total: number }>(REGISTRY, 'GET', `${path}${path.includes('?') ? '&' : '?'}page=${page}&pageSize=200`);
    out.push(...body.items);
    if (body.items.length < 200) break;
  }
  return out.slice(0, max);
}

export async function seedMonitoring(): Promise<void> {
  // The vendor and its key. A key is shown once; keep it in the simulator file.
  let apiKey: string | undefined;
  const simulator: { apiKey: string; devices: { externalId: string; kind: string; home: { lat: number; lng: number } }[] } = existsSync(SIM_FILE)
    ? JSON.parse(readFileSync(SIM_FILE, 'utf8'))
    : { apiKey: '', devices: [] };
  const created = await call<{ apiKey?: string }>(BASE, 'POST', '/vendors', VENDOR);
  if (created.status === 201) apiKey = created.body.apiKey;
  else if (!simulator.apiKey) apiKey = (await call<{ apiKey: string }>(BASE, 'POST', `/vendors/${VENDOR.vendorId}/keys`)).body.apiKey;
  if (apiKey) simulator.apiKey = apiKey;

  // Wait until monitoring has learned the registry's elders (it consumes registry events).
  const elders = await pages<ElderItem>(`/elders?regionCode=${DISTRICT_CODE}`, LIMIT);
  const facilities = (await pages<FacilityItem>(`/facilities?regionCode=${DISTRICT_CODE}&kind=INSTITUTION`, 100)).filter((f) => f.kind === 'INSTITUTION');
  const plan: { externalId: string; kind: string; elderId?: string; facilityId?: string; model: string; home: { lat: number; lng: number } }[] = [];
  elders.forEach((e, i) => {
    const tag = e.id.slice(-10);
    if (e.categories.includes('LIVING_ALONE')) {
      plan.push({ externalId: `sos-${tag}`, kind: 'SOS_BUTTON', elderId: e.id, model: 'YK-SOS2', home: e.home });
      plan.push({ externalId: `door-${tag}`, kind: 'DOOR_SENSOR', elderId: e.id, model: 'YK-DR1', home: e.home });
      if (i % 3 === 0) plan.push({ externalId: `watch-${tag}`, kind: 'SMART_WATCH', elderId: e.id, model: 'YK-W3', home: e.home });
    } else if (e.categories.includes('ADVANCED_AGE')) {
      plan.push({ externalId: `watch-${tag}`, kind: 'SMART_WATCH', elderId: e.id, model: 'YK-W3', home: e.home });
    }
    if (i % 10 === 0) plan.push({ externalId: `bp-${tag}`, kind: 'BP_METER', elderId: e.id, model: 'YK-BP1', home: e.home });
  });
  for (const f of facilities) {
    const tag = f.facilityId.slice(-10);
    plan.push({ externalId: `smoke-${tag}`, kind: 'SMOKE_DETECTOR', facilityId: f.facilityId, model: 'YK-SD5 (NB-IoT)', home: f.location });
    plan.push({ externalId: `gas-${tag}`, kind: 'GAS_DETECTOR', facilityId: f.facilityId, model: 'YK-GD2', home: f.location });
  }

  let registered = 0;
  let existing = 0;
  for (const d of plan) {
    const body = { vendorId: VENDOR.vendorId, externalId: d.externalId, kind: d.kind, model: d.model, ...(d.elderId ? { elderId: d.elderId } : { facilityId: d.facilityId }) };
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await call(BASE, 'POST', '/devices', body);
        if (res.status === 201) registered++;
        else existing++;
        break;
      } catch (error) {
        // 422 ELDER_UNKNOWN: monitoring has not consumed that registry event yet; give it a moment.
        // Until the first device lands, monitoring may still be reading the registry's history
        // (a new consumer group starts at the beginning), so the first one waits up to 5 minutes.
        const patience = registered + existing === 0 ? 300 : 20;
        if (attempt >= patience || !String(error).includes('UNKNOWN')) throw error;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
  simulator.devices = plan.map(({ externalId, kind, home }) => ({ externalId, kind, home }));
  mkdirSync(dirname(SIM_FILE), { recursive: true });
  writeFileSync(SIM_FILE, JSON.stringify(simulator, null, 1));
  say(`${registered} devices registered, ${existing} already there; vendor ${VENDOR.vendorId}; simulator file ${SIM_FILE}`);
}

if (require.main === module) {
  seedMonitoring().catch((error) => {
    process.stderr.write(`[demo-data:monitoring] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
