/**
 * Loads the demo district (district.ts) into a RUNNING registry over its HTTP API, as a city-level
 * civil-affairs admin would: regions → catalogue seed → providers → contracts → facilities →
 * caregivers → prices → the elder roster through POST /elders/import.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/demo-data/load.ts
 *
 * Env: REGISTRY_URL (http://127.0.0.1:3001)  INTERNAL_TOKEN_SECRET (local default)
 *      DEMO_ELDERS (20000; "full" = 188,200, Lubei's real 60+ population)  DEMO_FORCE=1 (skip the fast check)
 *
 * Idempotent: every entity is matched by a natural key (region code, licence number, facility
 * kind + name, contract area, caregiver name + community, price item) and written only when it is
 * missing or differs, so a second run changes nothing and emits no events. Elders are upserted by ID
 * number, so a re-import reports them unchanged. If the district and its elders are already there,
 * the run ends after two GETs — `npm start` stays fast on restarts.
 */
import { request } from 'node:http';
import { mintInternalToken } from '@yiyang/service-kit';
import { CATALOGUE_SEED } from '../../apps/registry/src/catalogue/seed';
import { buildDistrict, CITY, CITY_CODE, DEFAULT_DEMO_ELDERS, DISTRICT, DISTRICT_CODE, FULL_SCALE_ELDERS, rosterCsv, type District } from './district';

const BASE = (process.env['REGISTRY_URL'] ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
const SECRET = process.env['INTERNAL_TOKEN_SECRET'] ?? 'yiyang-local-development-internal-token-secret';
const ELDERS = process.env['DEMO_ELDERS'] === 'full' ? FULL_SCALE_ELDERS : Number(process.env['DEMO_ELDERS'] ?? DEFAULT_DEMO_ELDERS);
/** Rows per import request: each one answers within a couple of minutes and reports progress. */
const IMPORT_CHUNK_ROWS = 20_000;
const CONTRACT_START = '2026-01-01';
/** Prices cannot be backdated (the registry refuses): a new price applies from today, China time. */
const today = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
const ADMIN = { userId: 'demo-loader', role: 'civil_affairs_admin' as const, regionCode: CITY_CODE };

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

/** One JSON call with a fresh internal token (they live 60 s; the loader can run longer). */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${mintInternalToken(SECRET, ADMIN)}`,
      'x-correlation-id': `demo-data-${Date.now().toString(36)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new HttpError(res.status, json, `${method} ${path}`);
  return json as T;
}

async function maybe<T>(path: string): Promise<T | null> {
  try {
    return await call<T>('GET', path);
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) return null;
    throw e;
  }
}

/** Every page of a list endpoint ({ items, total }). */
async function listAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call<{ items: T[]; total: number }>('GET', `${path}${sep}page=${page}&pageSize=200`);
    out.push(...res.items);
    if (out.length >= res.total || res.items.length === 0) return out;
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sorted = <T>(xs: T[]) => [...xs].sort();

async function elderCount(): Promise<number> {
  return (await call<{ total: number }>('GET', `/elders?regionCode=${DISTRICT_CODE}&pageSize=1`)).total;
}

async function loadRegions(d: District) {
  type R = { code: string; name: string; centre: { lat: number; lng: number } };
  const existing = new Map((await call<R[]>('GET', '/regions')).map((r) => [r.code, r]));
  const wanted: R[] = [CITY, DISTRICT, ...d.streets.flatMap((s) => [{ code: s.code, name: s.name, centre: s.centre }, ...s.communities])];
  let written = 0;
  for (const r of wanted) {
    const have = existing.get(r.code);
    if (have && have.name === r.name && same(have.centre, r.centre)) continue;
    await call('PUT', `/regions/${r.code}`, { name: r.name, centre: r.centre });
    written++;
  }
  say(`regions: ${wanted.length} (${written} written)`);
}

async function loadProviders(d: District): Promise<Map<string, string>> {
  type P = { providerId: string; licenceNumber: string; name: string; type: string; contactPhone: string; serviceAreas: string[]; offeredItems: string[]; active: boolean };
  const byLicence = new Map((await listAll<P>('/providers')).map((p) => [p.licenceNumber, p]));
  const ids = new Map<string, string>();
  let written = 0;
  for (const p of d.providers) {
    const body = { name: p.name, type: p.type, licenceNumber: p.licenceNumber, contactPhone: p.contactPhone, serviceAreas: p.communities, offeredItems: p.offeredItems, active: true };
    const have = byLicence.get(p.licenceNumber);
    if (have) {
      ids.set(p.key, have.providerId);
      const unchanged =
        have.name === body.name && have.type === body.type && have.contactPhone === body.contactPhone && same(sorted(have.serviceAreas), sorted(body.serviceAreas)) && same(sorted(have.offeredItems), sorted(body.offeredItems));
      if (unchanged) continue;
      await call('PUT', `/providers/${have.providerId}`, body);
    } else {
      ids.set(p.key, (await call<P>('POST', '/providers', body)).providerId);
    }
    if (++written % 10 === 0) say(`  providers: ${written} written…`);
  }
  say(`providers: ${d.providers.length} (${written} written)`);
  return ids;
}

async function loadFacilities(d: District, providerIds: Map<string, string>): Promise<Map<string, string>> {
  type F = { facilityId: string; kind: string; name: string; regionCode: string; providerId: string | null; capacity: number; beds: { total: number; nursing: number; occupied: number }; address: string };
  // One listing per kind (each fits one page): paging a mixed list whose sort key is not unique can
  // skip rows between pages, and a skipped facility would be created twice.
  const byKey = new Map<string, F>();
  for (const kind of ['STREET_CENTRE', 'DAY_CARE_STATION', 'CANTEEN', 'INSTITUTION']) {
    for (const f of await listAll<F>(`/facilities?regionCode=${DISTRICT_CODE}&kind=${kind}`)) byKey.set(`${f.kind}|${f.name}`, f);
  }
  const ids = new Map<string, string>();
  let written = 0;
  for (const f of d.facilities) {
    const body = {
      kind: f.kind,
      name: f.name,
      regionCode: f.regionCode,
      address: f.address,
      location: f.location,
      providerId: f.providerKey ? providerIds.get(f.providerKey)! : null,
      openingHours: f.openingHours,
      capacity: f.capacity,
      beds: f.beds,
      open: true,
    };
    const have = byKey.get(`${f.kind}|${f.name}`);
    if (have) {
      ids.set(f.key, have.facilityId);
      if (have.regionCode === body.regionCode && have.providerId === body.providerId && have.capacity === body.capacity && same(have.beds, body.beds) && have.address === body.address) continue;
      await call('PUT', `/facilities/${have.facilityId}`, body);
    } else {
      ids.set(f.key, (await call<F>('POST', '/facilities', body)).facilityId);
    }
    written++;
  }
  const beds = d.facilities.filter((f) => f.kind === 'INSTITUTION').reduce((s, f) => ({ total: s.total + f.beds.total, nursing: s.nursing + f.beds.nursing }), { total: 0, nursing: 0 });
  say(`facilities: ${d.facilities.length} (${written} written); institution beds ${beds.total}, nursing ${Math.round((beds.nursing / beds.total) * 100)}%`);
  return ids;
}

async function loadContracts(d: District, providerIds: Map<string, string>, facilityIds: Map<string, string>) {
  type C = { contractId: string; providerId: string; regionCode: string; validFrom: string };
  let written = 0;
  let total = 0;
  for (const p of d.providers) {
    const providerId = providerIds.get(p.key)!;
    const have = new Set((await listAll<C>(`/contracts?providerId=${providerId}`)).map((c) => `${c.regionCode}|${c.validFrom}`));
    for (const community of p.communities) {
      total++;
      if (have.has(`${community}|${CONTRACT_START}`)) continue;
      await call('POST', `/providers/${providerId}/contracts`, {
        regionCode: community,
        facilityId: facilityIds.get(`DC-${community}`) ?? null,
        validFrom: CONTRACT_START,
        validTo: null,
      });
      written++;
    }
  }
  say(`contracts: ${total} (${written} written) — one per community day-care station`);
}

async function loadCaregivers(d: District, providerIds: Map<string, string>) {
  type G = { caregiverId: string; providerId: string; name: string; regionCode: string; kind: string; skills: string[] };
  const existing = new Map<string, G>();
  for (const p of d.providers) {
    for (const g of await listAll<G>(`/caregivers?providerId=${providerIds.get(p.key)}`)) existing.set(`${g.providerId}|${g.kind}|${g.name}|${g.regionCode}`, g);
  }
  let written = 0;
  for (const g of d.caregivers) {
    const providerId = providerIds.get(g.providerKey)!;
    const body = {
      providerId,
      kind: g.kind,
      name: g.name,
      gender: g.gender,
      regionCode: g.regionCode,
      skills: g.skills,
      certifications: g.certifications,
      homeBase: g.homeBase,
      weeklyAvailability: g.weeklyAvailability,
      active: true,
    };
    const have = existing.get(`${providerId}|${g.kind}|${g.name}|${g.regionCode}`);
    if (have) {
      if (same(sorted(have.skills), sorted(g.skills))) continue;
      await call('PUT', `/caregivers/${have.caregiverId}`, body);
    } else {
      const created = await call<G>('POST', '/caregivers', body);
      existing.set(`${providerId}|${g.kind}|${g.name}|${g.regionCode}`, created);
    }
    written++;
  }
  say(`caregivers: ${d.caregivers.length} (${written} written)`);
}

async function loadPrices(d: District, providerIds: Map<string, string>) {
  /** GET /catalogue/prices lists one entry per (provider, item) with its current price and history. */
  type Pr = { providerId: string; itemCode: string; current: { priceFen: number; effectiveFrom: string } | null };
  let written = 0;
  for (const p of d.providers) {
    const providerId = providerIds.get(p.key)!;
    // The current price equal to the demo price ⇒ nothing to do (no new history entry, no event).
    const have = new Map((await listAll<Pr>(`/catalogue/prices?providerId=${providerId}`)).map((x) => [x.itemCode, x.current?.priceFen]));
    for (const price of d.prices.filter((x) => x.providerKey === p.key)) {
      if (have.get(price.itemCode) === price.priceFen) continue;
      await call('PUT', `/catalogue/prices/${providerId}/${price.itemCode}`, { priceFen: price.priceFen, effectiveFrom: today() });
      written++;
    }
  }
  say(`prices: ${d.prices.length} (${written} written, integer fen)`);
}

/** Streams one chunk of the roster as a multipart upload (node:http: no client-side timeout on a long import). */
function importChunk(csv: string, part: number): Promise<{ totalRows: number; created: number; updated: number; unchanged: number; failed: number; errors: unknown[] }> {
  const boundary = `----yiyang-demo-${Date.now()}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="lubei-roster-${part}.csv"\r\nContent-Type: text/csv\r\n\r\n`),
    Buffer.from(csv),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const url = new URL(`${BASE}/elders/import`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': body.length,
          authorization: `Bearer ${mintInternalToken(SECRET, ADMIN, 3_600)}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new HttpError(res.statusCode ?? 0, text, 'POST /elders/import'))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function loadElders(d: District) {
  let chunk = '';
  let rows = 0;
  let part = 0;
  const totals = { created: 0, updated: 0, unchanged: 0, failed: 0 };
  const header = (() => {
    const it = rosterCsv(0);
    return (it.next().value as string) ?? '';
  })();
  const started = Date.now();
  const send = async () => {
    part++;
    const report = await importChunk(header + chunk, part);
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += report[k];
    if (report.failed) say(`  import part ${part}: ${report.failed} rows failed, e.g. ${JSON.stringify(report.errors.slice(0, 2))}`);
    say(`elders: ${rows}/${ELDERS} (${Math.round(rows / ((Date.now() - started) / 1000))} rows/s) — created ${totals.created}, updated ${totals.updated}, unchanged ${totals.unchanged}, failed ${totals.failed}`);
    chunk = '';
  };
  // rosterCsv yields the header with the first rows; strip it and re-add it per request.
  let first = true;
  for (let text of rosterCsv(ELDERS, d.streets)) {
    if (first) {
      text = text.slice(header.length);
      first = false;
    }
    chunk += text;
    rows += text.split('\n').length - 1;
    if (rows % IMPORT_CHUNK_ROWS === 0 && chunk) await send();
  }
  if (chunk) await send();
}

async function main() {
  const t0 = Date.now();
  say(`registry ${BASE}; district ${DISTRICT.name} ${DISTRICT_CODE}; elders ${ELDERS}`);
  try {
    await call('GET', '/health');
  } catch (e) {
    throw new Error(`registry not reachable at ${BASE} (${(e as Error).message}); start it first (npm start)`);
  }
  if (!process.env['DEMO_FORCE']) {
    const district = await maybe<{ name: string }>(`/regions/${DISTRICT_CODE}`);
    if (district && (await elderCount()) >= ELDERS) {
      say(`already loaded (${DISTRICT.name} registered, ≥ ${ELDERS} elders) — nothing to do; DEMO_FORCE=1 re-checks every record`);
      return;
    }
  }
  const d = buildDistrict();
  await loadRegions(d);
  const seeded = await call<{ created: string[] }>('POST', '/catalogue/items/seed');
  say(`catalogue: ${CATALOGUE_SEED.length} items (${seeded.created.length} created)`);
  const providerIds = await loadProviders(d);
  const facilityIds = await loadFacilities(d, providerIds);
  await loadContracts(d, providerIds, facilityIds);
  await loadCaregivers(d, providerIds);
  await loadPrices(d, providerIds);
  await loadElders(d);
  say(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${await elderCount()} elders in ${DISTRICT.name}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
