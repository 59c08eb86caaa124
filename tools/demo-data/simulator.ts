/**
 * The living demo: makes every screen of the console move within a minute of `npm start`.
 *
 *   node -r @swc-node/register tools/demo-data/simulator.ts
 *
 * Plays the people of the demo district against the RUNNING services, each as its own principal
 * with a short-lived internal token (the way the gateway forwards them; the gateway has only a
 * handful of demo accounts, the simulator plays hundreds of families and caregivers):
 *   - families order services from the menu for their parents (dispatch POST /orders);
 *   - caregivers accept their offers (most within seconds, a few decline), check in at the door and
 *     check out (dispatch visits) — a few check in far from home or leave much too early, so
 *     verification flags them for the operator desk;
 *   - the devices the monitoring demo set-up equipped (its file .infra/demo/monitoring-devices.json
 *     holds the vendor key and the devices; without it the simulator registers a few of its own)
 *     stream telemetry through the vendor ingestion endpoint (POST /telemetry with the API key):
 *     a sweep every minute (heartbeats, vital signs, door activity), now and then a fall, an SOS,
 *     a heart rate out of range or smoke in an institution;
 *   - responders acknowledge and resolve older alerts, so the queue holds what is new;
 *   - the month's settlement draft is produced every few minutes (billing).
 *
 * Env: REGISTRY_URL DISPATCH_URL BILLING_URL MONITORING_URL (3001–3004)  INTERNAL_TOKEN_SECRET
 *      SIM_TICK_MS (3000)  SIM_ORDERS_PER_MIN (6)  SIM_ALERTS_PER_MIN (2)  SIM_DEVICES (60, own devices only)  DEMO_SIM_FILE
 *      SIM_DURATION_S (0 = forever)
 *      SIM_SEED (deterministic choices)
 * Stops on SIGINT/SIGTERM. Never deletes anything; safe to run twice (ids are deterministic where
 * the APIs take them, e.g. device externalIds and order Idempotency-Keys).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mintInternalToken } from '@yiyang/service-kit';
import { CITY_CODE, DISTRICT_CODE } from './district';

const env = (k: string, d: string) => process.env[k] ?? d;
const URLS = {
  registry: env('REGISTRY_URL', 'http://127.0.0.1:3001').replace(/\/$/, ''),
  dispatch: env('DISPATCH_URL', 'http://127.0.0.1:3002').replace(/\/$/, ''),
  billing: env('BILLING_URL', 'http://127.0.0.1:3003').replace(/\/$/, ''),
  monitoring: env('MONITORING_URL', 'http://127.0.0.1:3004').replace(/\/$/, ''),
};
type Service = keyof typeof URLS;
const SECRET = env('INTERNAL_TOKEN_SECRET', 'yiyang-local-development-internal-token-secret');
const TICK_MS = Number(env('SIM_TICK_MS', '3000'));
const ORDERS_PER_MIN = Number(env('SIM_ORDERS_PER_MIN', '6'));
const ALERTS_PER_MIN = Number(env('SIM_ALERTS_PER_MIN', '2'));
const DEVICES = Number(env('SIM_DEVICES', '60'));
const DURATION_S = Number(env('SIM_DURATION_S', '0'));
const VENDOR_ID = 'yiyang-sim';

// ── small deterministic randomness (mulberry32) ─────────────────────────────────────────────
let seed = [...env('SIM_SEED', `${Date.now()}`)].reduce((h, c) => (Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0), 2166136261);
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const chance = (p: number) => rand() < p;

// ── logging: one line per event kind, with counts, never a flood ─────────────────────────────
const counts = new Map<string, number>();
const bump = (k: string, n = 1) => counts.set(k, (counts.get(k) ?? 0) + n);
const lastError = new Map<string, number>();
const say = (line: string) => process.stdout.write(`[simulator] ${line}\n`);
function warn(key: string, error: unknown): void {
  bump(`error:${key}`);
  const now = Date.now();
  if ((lastError.get(key) ?? 0) > now - 60_000) return;
  lastError.set(key, now);
  say(`${key}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300));
}

// ── HTTP with a fresh internal token per call ─────────────────────────────────────────────────
interface Principal {
  userId: string;
  role: 'civil_affairs_admin' | 'provider_operator' | 'caregiver' | 'elder' | 'guardian';
  regionCode?: string;
  providerId?: string;
  caregiverId?: string;
  elderIds?: string[];
}
const ADMIN: Principal = { userId: 'simulator-bureau', role: 'civil_affairs_admin', regionCode: CITY_CODE };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} → ${status} ${JSON.stringify(body).slice(0, 240)}`);
  }
}

async function call<T>(service: Service, as: Principal | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${URLS[service]}${path}`, {
    method,
    headers: {
      ...(as ? { authorization: `Bearer ${mintInternalToken(SECRET, as as never)}` } : {}),
      'x-correlation-id': `sim-${Date.now().toString(36)}-${Math.floor(rand() * 1e6).toString(36)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (!res.ok) throw new HttpError(res.status, json, `${method} ${service}${path}`);
  return json as T;
}

const items = <T>(r: unknown): T[] => (Array.isArray(r) ? (r as T[]) : (((r as { items?: T[] } | null)?.items ?? []) as T[]));

// ── the district as the simulator knows it ───────────────────────────────────────────────────
interface Elder {
  id: string;
  name: string;
  regionCode: string;
  home: { lat: number; lng: number };
}
interface Caregiver {
  caregiverId: string;
  providerId: string | null;
  name: string;
}
interface CatalogueItem {
  code: string;
  defaultDurationMinutes: number;
  unit: string;
  active: boolean;
}
interface Order {
  orderId: string;
  elderId: string;
  itemCode: string;
  state: string;
  providerId: string | null;
  caregiverId: string | null;
  visitId: string | null;
  bookedMinutes: number;
  offer?: { caregiverId: string; providerId: string; expiresAt: string } | null;
  history?: { to: string; at: string }[];
}
interface SimDevice {
  externalId: string;
  kind: string;
  home: { lat: number; lng: number };
  seq: number;
  battery: number;
}

const world = {
  elders: [] as Elder[],
  caregivers: new Map<string, Caregiver>(),
  items: [] as CatalogueItem[],
  devices: [] as SimDevice[],
  vendorKey: null as string | null,
  /** orderId → when the simulator first saw it in its current state (ms). */
  seen: new Map<string, { state: string; since: number }>(),
  /** orderId → how this visit should go wrong, decided once. */
  plan: new Map<string, 'ok' | 'far' | 'short'>(),
  /** orderId → the visit the simulator checked in and when its stamped end comes. */
  visits: new Map<string, { visitId: string; endAt: number }>(),
};

/** The menu items a family typically orders at home (not day care or respite, which last all day). */
const HOME_ITEMS = ['HOME_CLEANING', 'MEAL_DELIVERY', 'BATHING_AT_HOME', 'MEDICATION_REMINDER', 'HEALTH_CHECK', 'CHRONIC_DISEASE_MONITORING', 'EMOTIONAL_SUPPORT_VISIT', 'ERRANDS_SHOPPING', 'HAIRCUT', 'LAUNDRY', 'REHAB_PHYSIOTHERAPY', 'MOBILITY_ASSISTANCE'];

async function loadWorld(): Promise<void> {
  const elders: Elder[] = [];
  for (let page = 1; page <= 10; page++) {
    const res = await call<unknown>('registry', ADMIN, 'GET', `/elders?regionCode=${DISTRICT_CODE}&status=ACTIVE&page=${page}&pageSize=200`);
    const batch = items<Elder>(res);
    elders.push(...batch.filter((e) => e.home && Number.isFinite(e.home.lat)));
    if (batch.length < 200) break;
  }
  world.elders = elders;
  for (let page = 1; page <= 10; page++) {
    const batch = items<Caregiver>(await call<unknown>('registry', ADMIN, 'GET', `/caregivers?page=${page}&pageSize=200`));
    for (const c of batch) world.caregivers.set(c.caregiverId, c);
    if (batch.length < 200) break;
  }
  // Families order where a contracted provider has caregivers: elsewhere every order would only
  // escalate (a district being rolled out has communities without a contract yet).
  const staffed = new Set([...world.caregivers.values()].map((c) => c.providerId));
  const served = new Set<string>();
  for (let page = 1; page <= 20; page++) {
    const batch = items<{ providerId: string; regionCode: string; validTo: string | null }>(await call<unknown>('registry', ADMIN, 'GET', `/contracts?page=${page}&pageSize=200`));
    for (const c of batch) if (staffed.has(c.providerId) && (!c.validTo || c.validTo >= chinaMonth())) served.add(c.regionCode);
    if (batch.length < 200) break;
  }
  const reachable = world.elders.filter((e) => served.has(e.regionCode));
  if (reachable.length) world.elders = reachable;
  const menu = items<CatalogueItem>(await call<unknown>('registry', ADMIN, 'GET', '/catalogue/items?pageSize=200'));
  world.items = menu.filter((i) => i.active !== false && HOME_ITEMS.includes(i.code));
  if (!world.items.length) world.items = menu.filter((i) => i.active !== false && i.defaultDurationMinutes <= 180);
  say(`district: ${world.elders.length} elders in ${served.size} served communities, ${world.caregivers.size} caregivers, ${world.items.length} home services`);
}

// ── devices and telemetry (monitoring) ───────────────────────────────────────────────────────
/** Written by tools/demo-data/monitoring.ts: the demo vendor's API key and every device it equipped. */
const SIM_FILE = path.resolve(env('DEMO_SIM_FILE', '.infra/demo/monitoring-devices.json'));

async function setUpDevices(): Promise<void> {
  if (existsSync(SIM_FILE)) {
    const file = JSON.parse(readFileSync(SIM_FILE, 'utf8')) as { apiKey: string; devices: { externalId: string; kind: string; home: { lat: number; lng: number } }[] };
    if (file.apiKey && file.devices?.length) {
      world.vendorKey = file.apiKey;
      world.devices = file.devices.map((d) => ({ ...d, seq: Math.floor(Date.now() / 1000), battery: 55 + Math.floor(rand() * 45) }));
      try {
        // The file may belong to another copy of the platform (npm start vs npm test): check the key here.
        await sendTelemetry(heartbeatReadings(Date.now()).slice(0, 1));
        say(`devices: ${world.devices.length} from ${path.relative(process.cwd(), SIM_FILE)} (the demo vendor's equipment)`);
        return;
      } catch (e) {
        if (!(e instanceof HttpError) || e.status !== 401) throw e;
        say(`the vendor key in ${path.relative(process.cwd(), SIM_FILE)} is not this platform's; registering the simulator's own devices`);
        world.vendorKey = null;
        world.devices = [];
      }
    }
  }
  await registerOwnDevices();
}

/** Without the monitoring demo set-up: a vendor of our own and a watch, button or fall detector for some elders. */
async function registerOwnDevices(): Promise<void> {
  try {
    const created = await call<{ apiKey: string }>('monitoring', ADMIN, 'POST', '/vendors', { vendorId: VENDOR_ID, name: '颐养演示设备平台 (simulator)' });
    world.vendorKey = created.apiKey;
  } catch (e) {
    if (!(e instanceof HttpError) || e.status !== 409) throw e;
    // The vendor exists from an earlier run: issue a fresh key (the old one is revoked).
    world.vendorKey = (await call<{ apiKey: string }>('monitoring', ADMIN, 'POST', `/vendors/${VENDOR_ID}/keys`, {})).apiKey;
  }
  // Every tenth elder of the sample wears a device: deterministic by elder id, so reruns reuse them.
  const wearers = [...world.elders].sort((a, b) => a.id.localeCompare(b.id)).slice(0, DEVICES);
  const kinds = ['SOS_WATCH', 'FALL_DETECTOR', 'SMART_WATCH'];
  let registered = 0;
  for (const [i, elder] of wearers.entries()) {
    const kind = kinds[i % kinds.length];
    const externalId = `SIM-${kind}-${elder.id}`.slice(0, 64);
    try {
      await call('monitoring', ADMIN, 'POST', '/devices', {
        vendorId: VENDOR_ID,
        externalId,
        kind,
        model: kind === 'FALL_DETECTOR' ? 'YY-FD2' : kind === 'SOS_WATCH' ? 'YY-W1' : 'YY-W3',
        elderId: elder.id,
        heartbeatIntervalSec: 60,
        battery: 60 + Math.floor(rand() * 40),
      });
      registered++;
    } catch (e) {
      if (!(e instanceof HttpError) || e.status !== 409) warn('register device', e);
    }
    world.devices.push({ externalId, kind, home: elder.home, seq: Math.floor(Date.now() / 1000), battery: 60 + Math.floor(rand() * 40) });
  }
  say(`devices: ${world.devices.length} worn (${registered} newly registered) under vendor ${VENDOR_ID}`);
}

async function sendTelemetry(readings: Record<string, unknown>[]): Promise<void> {
  if (!world.vendorKey) return;
  for (let i = 0; i < readings.length; i += 1_000) {
    const batch = readings.slice(i, i + 1_000);
    const res = await call<{ accepted?: number; rejected?: { code: string }[] }>('monitoring', null, 'POST', '/telemetry', { readings: batch }, { 'x-api-key': world.vendorKey });
    bump('telemetry readings', res.accepted ?? batch.length);
    if (res.rejected?.length) warn('telemetry rejected', new Error(JSON.stringify(res.rejected.slice(0, 2))));
  }
}

/** One sweep of ordinary life: every device says it is alive in the way its kind does. */
function heartbeatReadings(now: number): Record<string, unknown>[] {
  return world.devices.map((d) => {
    d.seq++;
    if (chance(0.01)) d.battery = Math.max(20, d.battery - 1);
    const base = { externalId: d.externalId, at: now, seq: d.seq, battery: d.battery };
    switch (d.kind) {
      case 'SMART_WATCH':
        return { ...base, kind: 'VITALS', vitals: { hr: 62 + Math.floor(rand() * 30), spo2: 94 + Math.floor(rand() * 5) } };
      case 'BP_METER':
        return { ...base, kind: 'VITALS', vitals: { sys: 118 + Math.floor(rand() * 30), dia: 70 + Math.floor(rand() * 15), hr: 60 + Math.floor(rand() * 25) } };
      case 'GLUCOSE_METER':
        return { ...base, kind: 'VITALS', vitals: { glu: Math.round((5 + rand() * 3) * 10) / 10 } };
      case 'DOOR_SENSOR':
      case 'MOTION_SENSOR':
      case 'BED_SENSOR':
        // Someone is moving about at home (the inactivity rule watches these).
        return { ...base, kind: 'ACTIVITY' };
      default:
        return { ...base, kind: 'HEARTBEAT' };
    }
  });
}

const CAN_SOS = ['SOS_BUTTON', 'SOS_WATCH', 'SMART_WATCH'];
const CAN_FALL = ['FALL_DETECTOR', 'SMART_WATCH', 'SOS_WATCH'];

/** Now and then someone falls or presses the SOS button; rarely a heart rate out of range (three in a row) or smoke in an institution. */
function incidentReadings(now: number, perTick: number): Record<string, unknown>[] {
  if (!chance(perTick) || !world.devices.length) return [];
  const roll = rand();
  const kind = roll < 0.45 ? 'SOS' : roll < 0.8 ? 'FALL' : roll < 0.95 ? 'VITALS' : 'SMOKE';
  const able = world.devices.filter((d) =>
    kind === 'SOS' ? CAN_SOS.includes(d.kind) : kind === 'FALL' ? CAN_FALL.includes(d.kind) : kind === 'VITALS' ? d.kind === 'SMART_WATCH' : d.kind === 'SMOKE_DETECTOR',
  );
  if (!able.length) return [];
  const d = pick(able);
  const loc = { lat: d.home.lat, lng: d.home.lng };
  bump(`incident ${kind}`);
  const next = (extra: Record<string, unknown>, offsetMs = 0) => ({ externalId: d.externalId, at: now - offsetMs, seq: ++d.seq, battery: d.battery, ...extra });
  if (kind === 'VITALS') return [2, 1, 0].map((k) => next({ kind, vitals: { hr: 138 + k, spo2: 88 } }, k * 20_000));
  if (kind === 'SMOKE') return [next({ kind, level: 12 })];
  return [next({ kind, loc })];
}

interface AlertRow {
  alertId: string;
  status: string;
  raisedAt: string;
  acknowledgedAt?: string | null;
}

/** Responders: acknowledge alerts after a couple of minutes, resolve them a few minutes later. */
async function respondToAlerts(now: number): Promise<void> {
  const open = items<AlertRow>(await call<unknown>('monitoring', ADMIN, 'GET', `/alerts?status=OPEN&pageSize=100`));
  for (const a of open) {
    const age = now - new Date(a.raisedAt).getTime();
    if (a.status === 'RAISED' && age > 150_000) {
      await call('monitoring', ADMIN, 'POST', `/alerts/${a.alertId}/acknowledge`, { note: '社区网格员已电话联系（演示）' }).then(() => bump('alerts acknowledged'), (e) => warn('acknowledge alert', e));
    } else if (a.status === 'ACKNOWLEDGED' && age > 300_000) {
      await call('monitoring', ADMIN, 'POST', `/alerts/${a.alertId}/resolve`, { outcome: chance(0.2) ? 'FALSE_ALARM' : 'RESOLVED', reason: '已上门查看，老人情况稳定（演示）' }).then(
        () => bump('alerts resolved'),
        (e) => warn('resolve alert', e),
      );
    }
  }
}

// ── orders, offers, visits (dispatch) ────────────────────────────────────────────────────────
const guardianOf = (elderId: string): Principal => ({ userId: `sim-guardian-${elderId}`, role: 'guardian', elderIds: [elderId] });
function caregiverPrincipal(caregiverId: string, providerId?: string | null): Principal {
  const c = world.caregivers.get(caregiverId);
  const provider = providerId ?? c?.providerId ?? undefined;
  return { userId: `sim-caregiver-${caregiverId}`, role: 'caregiver', caregiverId, ...(provider ? { providerId: provider } : {}) };
}

async function placeOrder(): Promise<void> {
  const elder = pick(world.elders);
  const item = pick(world.items);
  const key = `sim-${elder.id}-${item.code}-${Math.floor(Date.now() / 60_000)}`;
  await call('dispatch', guardianOf(elder.id), 'POST', '/orders', { elderId: elder.id, itemCode: item.code, window: { asap: true }, notes: '' }, { 'idempotency-key': key });
  bump('orders placed');
}

/** Where a caregiver stands at the door: at home (within a few metres), or — for a flagged demo visit — ~900 m off. */
function punchLocation(elder: Elder, far: boolean): { lat: number; lng: number } {
  const jitter = () => (rand() - 0.5) * 0.0001;
  return far ? { lat: elder.home.lat + 0.008, lng: elder.home.lng + 0.004 } : { lat: elder.home.lat + jitter(), lng: elder.home.lng + jitter() };
}

/** The check-in/out calls as dispatch exposes them (apps/dispatch/src/visits): punches may carry the device time (last 24 h). */
const visitApi = {
  checkIn: (o: Order, as: Principal, location: { lat: number; lng: number }, at: Date) =>
    call<{ visitId: string }>('dispatch', as, 'POST', '/visits/check-in', { orderId: o.orderId, location, accuracyMeters: 8, at: at.toISOString() }),
  checkOut: (visitId: string, as: Principal, location: { lat: number; lng: number }, at: Date) =>
    call<unknown>('dispatch', as, 'POST', `/visits/${visitId}/check-out`, { location, accuracyMeters: 8, at: at.toISOString() }),
};

/**
 * Demo time: a real visit lasts an hour, the demo cannot wait that long. The caregiver's phone
 * stamps the check-in as long ago as the booked duration (the device time the API accepts), and the
 * check-out follows ~20 s later — so a visit shows "checked in" on the family page and still lasts
 * its booked time on record. Each caregiver keeps a clock so stamped visits never overlap and leave
 * travel time between homes (else verification would rightly flag them).
 */
const caregiverFreeAt = new Map<string, number>();
const TRAVEL_MS = 15 * 60_000;
const CHECKED_IN_FOR_MS = 20_000;

async function moveOrders(now: number): Promise<void> {
  const active = items<Order>(await call<unknown>('dispatch', ADMIN, 'GET', `/orders?pageSize=200&state=ASSIGNED`)).concat(
    items<Order>(await call<unknown>('dispatch', ADMIN, 'GET', `/orders?pageSize=200&state=ACCEPTED`)),
    items<Order>(await call<unknown>('dispatch', ADMIN, 'GET', `/orders?pageSize=200&state=EN_ROUTE`)),
    items<Order>(await call<unknown>('dispatch', ADMIN, 'GET', `/orders?pageSize=200&state=CHECKED_IN`)),
  );
  const elders = new Map(world.elders.map((e) => [e.id, e]));
  for (const o of active) {
    const seen = world.seen.get(o.orderId);
    if (!seen || seen.state !== o.state) world.seen.set(o.orderId, { state: o.state, since: now });
    const waited = now - (world.seen.get(o.orderId)?.since ?? now);
    try {
      if (o.state === 'ASSIGNED' && o.offer && waited > 4_000) {
        const as = caregiverPrincipal(o.offer.caregiverId, o.offer.providerId);
        if (chance(0.08)) {
          await call('dispatch', as, 'POST', `/offers/${o.orderId}/decline`, { reason: '时间冲突（演示）' });
          bump('offers declined');
        } else {
          await call('dispatch', as, 'POST', `/offers/${o.orderId}/accept`, {});
          bump('offers accepted');
        }
      } else if ((o.state === 'ACCEPTED' || o.state === 'EN_ROUTE') && o.caregiverId && waited > 8_000) {
        const elder = elders.get(o.elderId) ?? (await call<Elder>('registry', ADMIN, 'GET', `/elders/${o.elderId}`));
        let plan = world.plan.get(o.orderId);
        if (!plan) {
          plan = chance(0.06) ? 'far' : chance(0.06) ? 'short' : 'ok';
          world.plan.set(o.orderId, plan);
        }
        // Stamped as long ago as the visit will last (a 'short' one: a quarter of the booking).
        const lasts = (plan === 'short' ? 0.25 : 1) * o.bookedMinutes * 60_000;
        const startAt = now + CHECKED_IN_FOR_MS - lasts;
        if ((caregiverFreeAt.get(o.caregiverId) ?? 0) + TRAVEL_MS > startAt) continue; // still at the previous home
        const visit = await visitApi.checkIn(o, caregiverPrincipal(o.caregiverId, o.providerId), punchLocation(elder, plan === 'far'), new Date(startAt));
        caregiverFreeAt.set(o.caregiverId, startAt + lasts);
        world.visits.set(o.orderId, { visitId: visit.visitId, endAt: startAt + lasts });
        bump(plan === 'far' ? 'check-ins far from home' : 'check-ins');
      } else if (o.state === 'CHECKED_IN' && o.caregiverId) {
        const visit = world.visits.get(o.orderId) ?? (o.visitId ? { visitId: o.visitId, endAt: now } : null);
        if (!visit || visit.endAt > now) continue;
        const elder = elders.get(o.elderId) ?? (await call<Elder>('registry', ADMIN, 'GET', `/elders/${o.elderId}`));
        await visitApi.checkOut(visit.visitId, caregiverPrincipal(o.caregiverId, o.providerId), punchLocation(elder, false), new Date(Math.min(now, visit.endAt)));
        world.visits.delete(o.orderId);
        bump(world.plan.get(o.orderId) === 'short' ? 'check-outs too early' : 'check-outs');
      }
    } catch (e) {
      warn(`order ${o.state.toLowerCase()}`, e);
    }
  }
}

// ── settlement (billing) ─────────────────────────────────────────────────────────────────────
const chinaMonth = (d = new Date()) => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 7);

async function draftSettlement(): Promise<void> {
  await call('billing', ADMIN, 'POST', '/settlements', { month: chinaMonth() });
  bump('settlement drafts');
}

// ── the loop ─────────────────────────────────────────────────────────────────────────────────
let stopping = false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForServices(): Promise<void> {
  for (;;) {
    const states = await Promise.all(
      (Object.keys(URLS) as Service[]).map((s) =>
        fetch(`${URLS[s]}/health`, { signal: AbortSignal.timeout(3_000) })
          .then((r) => r.ok)
          .catch(() => false),
      ),
    );
    if (states.every(Boolean)) return;
    if (stopping) return;
    say(`waiting for ${(Object.keys(URLS) as Service[]).filter((_, i) => !states[i]).join(', ')}…`);
    await sleep(5_000);
  }
}

async function every(label: string, periodMs: number, last: Map<string, number>, now: number, fn: () => Promise<void>): Promise<void> {
  if (now - (last.get(label) ?? 0) < periodMs) return;
  last.set(label, now);
  await fn().catch((e) => warn(label, e));
}

async function main(): Promise<void> {
  process.on('SIGINT', () => (stopping = true));
  process.on('SIGTERM', () => (stopping = true));
  await waitForServices();
  await loadWorld();
  if (!world.elders.length) throw new Error('no elders in the demo district: load the demo data first (tools/demo-data/load.ts)');
  await setUpDevices().catch((e) => warn('devices', e));
  const started = Date.now();
  const last = new Map<string, number>();
  const ticksPerMin = 60_000 / TICK_MS;
  // First minute: a burst so the screens fill at once.
  for (let i = 0; i < 4; i++) await placeOrder().catch((e) => warn('place order', e));
  await sendTelemetry(incidentReadings(Date.now(), 1)).catch((e) => warn('telemetry', e));
  await draftSettlement().catch((e) => warn('settlement', e));
  while (!stopping && (!DURATION_S || Date.now() - started < DURATION_S * 1000)) {
    const now = Date.now();
    const t0 = now;
    if (chance(ORDERS_PER_MIN / ticksPerMin)) await placeOrder().catch((e) => warn('place order', e));
    await moveOrders(now).catch((e) => warn('orders', e));
    await every('heartbeats', 60_000, last, now, () => sendTelemetry(heartbeatReadings(now)));
    await sendTelemetry(incidentReadings(now, ALERTS_PER_MIN / ticksPerMin)).catch((e) => warn('telemetry', e));
    await every('alerts', 15_000, last, now, () => respondToAlerts(now));
    await every('settlement', 300_000, last, now, draftSettlement);
    await every('report', 60_000, last, now, async () => {
      if (counts.size) say([...counts.entries()].map(([k, n]) => `${k}: ${n}`).join(' · '));
    });
    await sleep(Math.max(200, TICK_MS - (Date.now() - t0)));
  }
  say(`stopped — ${[...counts.entries()].map(([k, n]) => `${k}: ${n}`).join(' · ')}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    say(`cannot run: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
