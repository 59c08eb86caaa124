/**
 * Dispatch benchmark. Two measurements in ONE run:
 *
 * 1. Candidate selection in-process (the matcher alone, no I/O): 10,000 caregivers and 200,000 elders
 *    spread over a district the size of Lubei (~13 × 11 km), 50 providers contracted for every
 *    community. For random elders and items, time `selectCandidates` (H3 rings around the home) and,
 *    as the baseline measured in the same run, a full scan applying the same filters and score to
 *    every caregiver. Target: p99 ≤ 10 ms.
 *
 * 2. Orders end to end, Kafka in → assignment event out: the dispatch app booted in-process (Nest +
 *    Fastify, real Kafka + database) with 10,000 caregivers and 200,000 elders in its read models.
 *    PlaceOrderRequested commands are produced to the order-requests topic — a warm-up, BENCH_ORDERS
 *    paced at BENCH_RATE/s, BENCH_BURST_ORDERS as fast as possible — and the OrderAssigned/Escalated
 *    events read back from the orders topic. Reported per phase: orders/s, order→assignment latency
 *    p50/p99 and where a round's time goes (the intake's own timers). Then BENCH_HTTP_ORDERS single
 *    orders through POST /orders for comparison. Baselines in the same run: raw insertMany + bare
 *    kafkajs sendBatch (the floor of the bulk path) and raw insertOne + send per order.
 *    Target: ≥ 500 orders/s.
 *
 * From the repo root (infra up):
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register bench/dispatch/run.ts
 * Env: BENCH_CAREGIVERS (10000) BENCH_ELDERS (200000) BENCH_SELECTIONS (20000) BENCH_E2E_CAREGIVERS (10000)
 *      BENCH_E2E_ELDERS (200000) BENCH_ORDERS (10000) BENCH_RATE (500) BENCH_BURST_ORDERS (10000)
 *      BENCH_HTTP_ORDERS (200) BENCH_CONCURRENCY (32) BENCH_SKIP_E2E BENCH_OUT
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ConfigService } from '@nestjs/config';
import {
  CaregiverUpserted,
  CatalogueItemUpserted,
  DispatchTopics,
  ElderRegistered,
  PlaceOrderRequested,
  ProviderUpserted,
  ServiceContractUpserted,
  type EventDefinition,
} from '@yiyang/contracts';
import { distanceMetres, h3Cell, regionPath } from '@yiyang/geo';
import { EventPublisher, MESSAGING_OPTIONS, newEnvelope, parseBrokers } from '@yiyang/messaging';
import { OrderIntake } from '../../apps/dispatch/src/orders/order-intake.service';
import { orderIdFor } from '../../apps/dispatch/src/orders/orders.service';
import { configureServiceApp, createFastifyAdapter, mintInternalToken } from '@yiyang/service-kit';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { DispatchModule } from '../../apps/dispatch/src/app.module';
import { CaregiverIndex, type CaregiverEntry } from '../../apps/dispatch/src/matching/domain/caregiver-index';
import { availableAt, certifiedOn, scoreCandidate, selectCandidates } from '../../apps/dispatch/src/matching/domain/match';
import { ReadModels } from '../../apps/dispatch/src/read-models/read-models.service';
import { SERVICE } from '../../apps/dispatch/src/service';
import { chinaDate } from '../../apps/dispatch/src/shared/time';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
process.env['LOG_LEVEL'] ??= 'warn';

const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw.replace(/_/g, '')) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};
const CAREGIVERS = int('BENCH_CAREGIVERS', 10_000);
const ELDERS = int('BENCH_ELDERS', 200_000);
const SELECTIONS = int('BENCH_SELECTIONS', 20_000);
const E2E_CAREGIVERS = int('BENCH_E2E_CAREGIVERS', 10_000);
const E2E_ELDERS = int('BENCH_E2E_ELDERS', 200_000);
const ORDERS = int('BENCH_ORDERS', 10_000);
const RATE = int('BENCH_RATE', 500);
const BURST = int('BENCH_BURST_ORDERS', 10_000);
const HTTP_ORDERS = int('BENCH_HTTP_ORDERS', 200);
const CONCURRENCY = int('BENCH_CONCURRENCY', 32);
const RUN_ID = randomBytes(4).toString('hex');
const OUT = resolve(process.env['BENCH_OUT'] ?? 'bench/results/dispatch.json');
const MONGO_URL = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/';
const BROKERS = parseBrokers(process.env['KAFKA_BROKERS']);
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

const watchdog = setTimeout(() => {
  progress('hard stop after 20 min');
  process.exit(1);
}, 20 * 60_000);
watchdog.unref();

/** Deterministic pseudo-random numbers (mulberry32), so every run places the same district. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ITEMS = ['MEAL_DELIVERY', 'HOME_CLEANING', 'BATHING_ASSIST', 'MEDICAL_ESCORT', 'MASSAGE_REHAB', 'EMOTIONAL_VISIT'];
const COUNTY = '130203000000';
const STREETS = Array.from({ length: 12 }, (_, i) => `130203${String(i + 1).padStart(3, '0')}000`);
const COMMUNITIES = STREETS.flatMap((s) => Array.from({ length: 15 }, (_, j) => `${s.slice(0, 9)}${String(j + 1).padStart(3, '0')}`));
const BOX = { lat: [39.6, 39.7], lng: [118.1, 118.25] };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 1000) / 1000;
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: percentile(s, 100), mean: Math.round((s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)) * 1000) / 1000 };
};

interface Place {
  lat: number;
  lng: number;
}
function makeCaregivers(n: number, rand: () => number, providers: string[]) {
  return Array.from({ length: n }, (_, i) => {
    const home: Place = { lat: BOX.lat[0] + rand() * (BOX.lat[1] - BOX.lat[0]), lng: BOX.lng[0] + rand() * (BOX.lng[1] - BOX.lng[0]) };
    const skills = ITEMS.filter(() => rand() < 0.5);
    return {
      caregiverId: `bench-cg-${RUN_ID}-${i}`,
      providerId: providers[i % providers.length],
      kind: 'CAREGIVER' as const,
      name: `护理员${i}`,
      gender: (rand() < 0.8 ? 'FEMALE' : 'MALE') as 'FEMALE' | 'MALE',
      regionCode: COMMUNITIES[i % COMMUNITIES.length],
      skills: skills.length ? skills : [ITEMS[i % ITEMS.length]],
      certifications: [{ name: '养老护理员', number: `YL-${i}`, expiresOn: rand() < 0.95 ? '2030-12-31' : '2020-12-31' }],
      homeBase: home,
      homeBaseCell: h3Cell(home),
      weeklyAvailability: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, from: rand() < 0.85 ? '00:00' : '08:00', to: '24:00' })),
      active: rand() < 0.97,
      version: 1,
    };
  });
}
function makeElders(n: number, rand: () => number) {
  return Array.from({ length: n }, (_, i) => {
    const home: Place = { lat: BOX.lat[0] + rand() * (BOX.lat[1] - BOX.lat[0]), lng: BOX.lng[0] + rand() * (BOX.lng[1] - BOX.lng[0]) };
    return { elderId: `bench-el-${RUN_ID}-${i}`, home, homeCell: h3Cell(home), regionCode: COMMUNITIES[i % COMMUNITIES.length], gender: (rand() < 0.6 ? 'FEMALE' : 'MALE') as 'FEMALE' | 'MALE', preference: rand() < 0.2 ? ('FEMALE' as const) : null };
  });
}

// ───────────── 1. in-process candidate selection ─────────────

function benchSelection() {
  const rand = rng(42);
  const providers = Array.from({ length: 50 }, (_, i) => `bench-p-${i}`);
  const eligible = new Set(providers);
  const t0 = performance.now();
  const caregivers = makeCaregivers(CAREGIVERS, rand, providers);
  const elders = makeElders(ELDERS, rand);
  const index = new CaregiverIndex();
  for (const c of caregivers) {
    const until = c.certifications[0].expiresOn;
    index.upsert({ caregiverId: c.caregiverId, providerId: c.providerId, kind: c.kind, name: c.name, gender: c.gender, regionCode: c.regionCode, skills: c.skills, certifiedUntil: until, home: c.homeBase, cell: c.homeBaseCell, weeklyAvailability: c.weeklyAvailability, active: c.active, version: 1 });
  }
  const buildMs = performance.now() - t0;
  progress(`selection: ${CAREGIVERS} caregivers indexed, ${ELDERS} elders generated in ${Math.round(buildMs)} ms`);
  const workload = new Map<string, number>();
  const all: CaregiverEntry[] = [...index.all()];
  const at = new Date();
  const date = chinaDate(at);
  const radius = 5_000;

  const indexed: number[] = [];
  const scan: number[] = [];
  let found = 0;
  let agree = 0;
  for (let i = 0; i < SELECTIONS; i++) {
    const e = elders[Math.floor(rand() * elders.length)];
    const itemCode = ITEMS[i % ITEMS.length];
    const elder = { home: e.home, homeCell: e.homeCell, preferredGender: e.preference, servedBy: [] as string[] };
    let s = performance.now();
    const picked = selectCandidates(index, { elder, itemCode, startAt: at, eligibleProviders: eligible, radiusMeters: radius, limit: 5, workload: (id) => workload.get(id) ?? 0 });
    indexed.push(performance.now() - s);
    if (picked.length) {
      found++;
      workload.set(picked[0].caregiverId, (workload.get(picked[0].caregiverId) ?? 0) + 1);
    }
    if (i % 10 === 0) {
      // Baseline: the same filters and score over every caregiver (what "no index" costs).
      s = performance.now();
      let best: { id: string; score: number } | null = null;
      for (const c of all) {
        if (!c.active || !eligible.has(c.providerId) || !c.skills.includes(itemCode) || !certifiedOn(c, date) || !availableAt(c, at)) continue;
        const d = distanceMetres(e.home, c.home);
        if (d > radius) continue;
        const score = scoreCandidate(d, false, workload.get(c.caregiverId) ?? 0, c.gender, e.preference);
        if (!best || score > best.score) best = { id: c.caregiverId, score };
      }
      scan.push(performance.now() - s);
      if (best && picked[0] && Math.abs(best.score - picked[0].score) < 3.5) agree++;
    }
  }
  const idx = stats(indexed);
  const base = stats(scan);
  progress(`selection: indexed p50 ${idx.p50} ms p99 ${idx.p99} ms; full scan p50 ${base.p50} ms p99 ${base.p99} ms`);
  return {
    caregivers: CAREGIVERS,
    elders: ELDERS,
    selections: SELECTIONS,
    radiusMeters: radius,
    indexBuildMs: Math.round(buildMs),
    indexedMs: idx,
    fullScanBaselineMs: base,
    speedupP99: Math.round((base.p99 / Math.max(idx.p99, 0.001)) * 10) / 10,
    ordersWithCandidates: found,
    /** Share of sampled selections whose best score is within one ring (~3 points) of the full scan's best. */
    bestScoreAgreement: Math.round((agree / Math.max(1, scan.length)) * 1000) / 1000,
    targetP99Ms: 10,
    meetsTarget: idx.p99 <= 10,
  };
}

// ───────────── 2. orders end to end ─────────────

async function publishAll<P>(publisher: EventPublisher, definition: EventDefinition<P>, items: { key: string; payload: P }[]) {
  for (let i = 0; i < items.length; i += 1000) {
    const envelopes = items.slice(i, i + 1000).map((it) => newEnvelope('registry', definition, it));
    await publisher.publish(envelopes as never, () => definition.topic.name);
  }
}

async function benchEndToEnd() {
  const dbName = `bench_dispatch_${RUN_ID}`;
  const groupPrefix = `bench-dispatch-${RUN_ID}`;
  const moduleRef = await Test.createTestingModule({ imports: [DispatchModule.forRoot({ groupPrefix, env: { MONGO_DB: dbName, LOG_LEVEL: 'warn', DISPATCH_READ_MODEL_REFRESH_MS: '600000' } })] })
    .overrideProvider(MESSAGING_OPTIONS)
    .useFactory({ factory: (config: ConfigService) => ({ service: 'dispatch', brokers: parseBrokers(config.get('KAFKA_BROKERS')), groupPrefix, fromBeginning: false, partitionsConsumedConcurrently: 6, outbox: { batchSize: 1000 } }), inject: [ConfigService] })
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
  configureServiceApp(app, SERVICE);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const kafka = new Kafka({ clientId: `bench-${RUN_ID}`, brokers: BROKERS, logLevel: logLevel.NOTHING });
  // Wait for the consumer groups to join (they start at the topics' end).
  const admin = kafka.admin();
  await admin.connect();
  for (let i = 0; i < 120; i++) {
    const { groups } = await admin.listGroups();
    const mine = groups.filter((g) => g.groupId.startsWith(`${groupPrefix}.`)).map((g) => g.groupId);
    if (mine.length && (await admin.describeGroups(mine)).groups.every((g) => g.state === 'Stable')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 1500));

  const rm = app.get(ReadModels);
  const publisher = new EventPublisher(kafka);
  await publisher.connect();
  const rand = rng(7);
  const providers = Array.from({ length: 50 }, (_, i) => `bench-p-${RUN_ID}-${i}`);
  const t0 = performance.now();
  await publishAll(publisher, CatalogueItemUpserted, ITEMS.map((code) => ({ key: code, payload: { item: { code, nameZh: code, nameEn: code, category: 'CLEANING' as const, unit: 'PER_VISIT' as const, defaultDurationMinutes: 60, active: true, version: (rm.catalogue.get(code)?.version ?? 0) + 1000 } } })));
  await publishAll(publisher, ProviderUpserted, providers.map((providerId) => ({ key: providerId, payload: { provider: { providerId, name: providerId, type: 'COMPANY' as const, licenceNumber: providerId, contactPhone: '1', serviceAreas: [COUNTY], offeredItems: ITEMS, active: true, version: 1 } } })));
  await publishAll(publisher, ServiceContractUpserted, providers.map((providerId) => ({ key: providerId, payload: { contract: { contractId: `k-${providerId}`, providerId, regionCode: COUNTY.replace(/000000$/, '000000'), facilityId: null, validFrom: '2024-01-01', validTo: null, version: 1 } } })));
  const caregivers = makeCaregivers(E2E_CAREGIVERS, rand, providers);
  // 20 caregivers and 20 elders go through Kafka (the production path, proved below); the bulk is
  // written straight into the read-model collections in batches and loaded by `reload()` —
  // 210,000 single upserts through a write-serialising FerretDB would take the whole run.
  await publishAll(publisher, CaregiverUpserted, caregivers.slice(0, 20).map((c) => ({ key: c.caregiverId, payload: { caregiver: c } })));
  const elders = makeElders(E2E_ELDERS, rand).map((e) => ({
    elderId: e.elderId,
    regionCode: e.regionCode,
    regionPath: regionPath(e.regionCode),
    name: '老人',
    gender: e.gender,
    birthDate: '1942-01-01',
    homeAddress: '路北区',
    home: e.home,
    homeCell: e.homeCell,
    categories: ['LIVING_ALONE' as const],
    capabilityLevel: null,
    status: 'ACTIVE' as const,
    statusSince: '2024-01-01',
    guardians: [],
    preferences: { caregiverGender: e.preference },
    version: 1,
  }));
  await publishAll(publisher, ElderRegistered, elders.slice(0, 20).map((e) => ({ key: e.elderId, payload: { elder: e } })));
  const direct = await MongoClient.connect(MONGO_URL);
  const rmDb = direct.db(dbName);
  for (let i = 20; i < caregivers.length; i += 1000) {
    await rmDb.collection('rm_caregivers').insertMany(caregivers.slice(i, i + 1000).map((c) => ({ _id: c.caregiverId as never, ...c })), { ordered: false });
  }
  for (let i = 20; i < elders.length; i += 5000) {
    await rmDb.collection('rm_elders').insertMany(elders.slice(i, i + 5000).map(({ elderId, ...e }) => ({ _id: elderId as never, ...e })), { ordered: false });
    if ((i - 20) % 50_000 === 0) progress(`e2e: ${i}/${elders.length} elders bulk-loaded…`);
  }
  await direct.close();
  const viaKafka = [...caregivers.slice(0, 20).map((c) => c.caregiverId)];
  for (let i = 0; i < 2400; i++) {
    const cgs = viaKafka.filter((id) => rm.caregivers.get(id)).length;
    if (cgs === viaKafka.length && (await rm.elder(elders[19].elderId)) && providers.every((p) => rm.providers.has(p))) break;
    if (i % 20 === 0) progress(`e2e: read models via Kafka ${cgs}/${viaKafka.length} caregivers…`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await rm.reload();
  const loadMs = performance.now() - t0;
  progress(`e2e: read models loaded in ${Math.round(loadMs)} ms (${rm.caregivers.size} caregivers in the index, ${elders.length} elders)`);

  // Collector for the outcome events (Kafka out): assignment or escalation, matched by key. Only the
  // record header is read (no JSON parsing in the process that also runs the service).
  const sent = new Map<string, number>();
  const arrivedEarly = new Map<string, number>();
  let latencies: number[] = [];
  let lastSeen = 0;
  let outcomes = { assigned: 0, escalated: 0, rejected: 0 };
  const consumer = kafka.consumer({ groupId: `bench-collector-${RUN_ID}`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [DispatchTopics.orders.name], fromBeginning: false });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({
    partitionsConsumedConcurrently: 12,
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const type = m.headers?.['yiyang-event-type']?.toString() ?? '';
        if (type !== 'dispatch.order.assigned' && type !== 'dispatch.order.escalated' && type !== 'dispatch.order.request-rejected') continue;
        const key = m.key?.toString() ?? '';
        if (!key.startsWith('o-')) continue;
        const start = sent.get(key);
        if (start === undefined) {
          arrivedEarly.set(key, now);
          continue;
        }
        sent.delete(key);
        if (type === 'dispatch.order.assigned') outcomes.assigned++;
        else if (type === 'dispatch.order.escalated') outcomes.escalated++;
        else outcomes.rejected++;
        latencies.push(now - start);
        lastSeen = now;
      }
    },
  });
  await joined;
  await new Promise((r) => setTimeout(r, 1500));

  const requester = { userId: `bench-${RUN_ID}`, role: 'civil_affairs_admin', regionCode: COUNTY };
  const intake = app.get(OrderIntake);
  /**
   * Produces `count` PlaceOrderRequested commands (Kafka in) at `rate` per second (Infinity = as fast as
   * the producer goes, in batches of 500) and waits for every order's outcome event (Kafka out).
   */
  async function phase(name: string, count: number, rate: number, offset: number) {
    sent.clear();
    arrivedEarly.clear();
    latencies = [];
    outcomes = { assigned: 0, escalated: 0, rejected: 0 };
    lastSeen = 0;
    const before = { ...intake.timings, ...intake.totals };
    const tick = rate === Infinity ? 500 : Math.max(1, Math.round(rate / 50)); // 20 ms ticks when paced
    const tStart = performance.now();
    for (let i = 0; i < count; i += tick) {
      if (rate !== Infinity) {
        const due = tStart + (i / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const envelopes = [];
      const at = performance.now();
      for (let j = i; j < Math.min(count, i + tick); j++) {
        const n = offset + j;
        const elder = elders[Math.floor(rand() * elders.length)];
        const requestId = `bench-${RUN_ID}-${n}`;
        const orderId = orderIdFor(requester.userId, requestId);
        const early = arrivedEarly.get(orderId);
        if (early !== undefined) arrivedEarly.delete(orderId);
        sent.set(orderId, at);
        envelopes.push(newEnvelope('bench', PlaceOrderRequested, { key: requestId, payload: { requestId, requestedBy: requester, elderId: elder.elderId, itemCode: ITEMS[n % ITEMS.length], notes: '', priority: 'NORMAL' as const } }));
      }
      await publisher.publish(envelopes as never, () => DispatchTopics.orderRequests.name);
    }
    const producedMs = performance.now() - tStart;
    for (let i = 0; i < 3000 && sent.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const totalMs = (lastSeen || performance.now()) - tStart;
    const after = { ...intake.timings, ...intake.totals };
    const rounds = after.rounds - before.rounds;
    const placed = after.placed - before.placed;
    const per = (field: keyof typeof intake.timings) => Math.round(((after[field] - before[field]) / Math.max(1, placed)) * 1000) / 1000;
    const ordersPerSec = Math.round((latencies.length / (totalMs / 1000)) * 10) / 10;
    progress(`e2e ${name}: ${count} commands produced in ${Math.round(producedMs)} ms; ${latencies.length} outcomes (${outcomes.assigned} assigned, ${outcomes.escalated} escalated) in ${Math.round(totalMs)} ms = ${ordersPerSec}/s; p99 ${stats(latencies).p99} ms; ${rounds} rounds; ${sent.size} missing`);
    return {
      orders: count,
      offeredRatePerSec: rate === Infinity ? 'as fast as possible' : rate,
      producedInMs: Math.round(producedMs),
      outcomesSeen: latencies.length,
      missing: sent.size,
      assigned: outcomes.assigned,
      escalated: outcomes.escalated,
      rejected: outcomes.rejected,
      ordersPerSec,
      orderToAssignmentEventMs: stats(latencies),
      intake: {
        rounds,
        meanRound: Math.round((placed / Math.max(1, rounds)) * 10) / 10,
        largestRound: after.largestRound,
        /** Milliseconds per placed order spent in each step of a round (sums of the rounds / orders). */
        msPerOrder: { lookups: per('lookupMs'), matchAndBuild: per('buildMs'), markerAndDeadline: per('markerAndDeadlineMs'), insertMany: per('insertMs'), send: per('sendMs'), markerDelete: per('markerDeleteMs') },
      },
      meetsTarget: ordersPerSec >= 500,
    };
  }

  const warm = await phase('warm-up', Math.min(500, ORDERS), Infinity, 0);
  const paced = await phase(`paced at ${RATE}/s`, ORDERS, RATE, 1_000_000);
  const burst = await phase('burst', BURST, Infinity, 2_000_000);
  await consumer.disconnect();

  // Single orders through the HTTP API (POST /orders, one insertOne per order + the outbox relay): the
  // path a person's tap takes, measured small for comparison.
  const token = mintInternalToken(process.env['INTERNAL_TOKEN_SECRET'] ?? 'yiyang-local-development-internal-token-secret', { userId: 'bench', role: 'civil_affairs_admin', regionCode: COUNTY }, 3600);
  let next = 0;
  let failed = 0;
  const httpLat: number[] = [];
  const hStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < HTTP_ORDERS) {
        const i = next++;
        const s = performance.now();
        const res = await app.inject({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${token}`, 'idempotency-key': `bench-http-${RUN_ID}-${i}` }, payload: { elderId: elders[i % elders.length].elderId, itemCode: ITEMS[i % ITEMS.length] } });
        if (res.statusCode !== 201) failed++;
        httpLat.push(performance.now() - s);
      }
    }),
  );
  const httpMs = performance.now() - hStart;

  // Baseline, same run: the floor of "store N order-sized documents and publish 2 events each" done in
  // bulk with the raw driver and bare kafkajs — insertMany of 1,000 + one sendBatch of 2,000 — and the
  // floor of the per-order path (insertOne + send per order at the same concurrency).
  const client = await MongoClient.connect(MONGO_URL);
  const col = client.db(`${dbName}_baseline`).collection('orders');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sample = 'x'.repeat(5000);
  const bStart = performance.now();
  for (let i = 0; i < BURST; i += 1000) {
    const n = Math.min(1000, BURST - i);
    await col.insertMany(Array.from({ length: n }, (_, j) => ({ _id: `b-${RUN_ID}-${i + j}` as never, doc: sample })));
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: DispatchTopics.orders.name, messages: Array.from({ length: 2 * n }, (_, j) => ({ key: `baseline-${RUN_ID}-${i + j}`, value: sample.slice(0, 2500), headers: { 'yiyang-event-type': 'bench.baseline' } })) }] });
  }
  const bulkPerSec = Math.round((BURST / ((performance.now() - bStart) / 1000)) * 10) / 10;
  let bnext = 0;
  const sStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (bnext < HTTP_ORDERS) {
        const i = bnext++;
        await col.insertOne({ _id: `s-${RUN_ID}-${i}` as never, doc: sample });
        await producer.send({ topic: DispatchTopics.orders.name, acks: -1, messages: [{ key: `baseline-${RUN_ID}-${i}`, value: '{"type":"bench.baseline"}' }] });
      }
    }),
  );
  const singlePerSec = Math.round((HTTP_ORDERS / ((performance.now() - sStart) / 1000)) * 10) / 10;
  await producer.disconnect();
  await client.db(dbName).dropDatabase().catch(() => undefined);
  await client.db(`${dbName}_baseline`).dropDatabase().catch(() => undefined);
  await client.close();
  await publisher.disconnect();
  await admin.disconnect();
  await app.close();

  const best = Math.max(paced.ordersPerSec, burst.ordersPerSec);
  return {
    path: 'PlaceOrderRequested on yiyang.dispatch.order-requests.v1 (Kafka in) → OrderAssigned/OrderEscalated on yiyang.dispatch.orders.v1 (Kafka out)',
    caregivers: E2E_CAREGIVERS,
    elders: E2E_ELDERS,
    readModelLoadMs: Math.round(loadMs),
    warmUp: warm,
    paced,
    burst,
    httpSingleOrders: {
      description: 'POST /orders one at a time (insertOne with its outbox + relay), BENCH_CONCURRENCY in flight; latency is the HTTP answer',
      orders: HTTP_ORDERS,
      concurrency: CONCURRENCY,
      failed,
      ordersPerSec: Math.round((HTTP_ORDERS / (httpMs / 1000)) * 10) / 10,
      latencyMs: stats(httpLat),
    },
    baseline: {
      bulk: { description: 'raw insertMany of 1,000 5-KB documents + one bare kafkajs sendBatch of 2,000 2.5-KB records (acks=all), repeated; orders/s', ordersPerSec: bulkPerSec },
      single: { description: 'raw insertOne + bare kafkajs send per order, BENCH_CONCURRENCY in flight; orders/s', ordersPerSec: singlePerSec },
    },
    vsBulkBaseline: Math.round((best / Math.max(bulkPerSec, 0.1)) * 100) / 100,
    targetOrdersPerSec: 500,
    meetsTarget: best >= 500 && paced.ordersPerSec >= 0.95 * RATE && RATE >= 500,
  };
}

async function main() {
  const selection = benchSelection();
  const endToEnd = process.env['BENCH_SKIP_E2E'] ? null : await benchEndToEnd();
  const result = {
    benchmark: 'dispatch',
    runId: RUN_ID,
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    note: 'Shared 2-core machine with other services, tests and benchmarks running; FerretDB (SQLite) serialises every write.',
    selection,
    endToEnd,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  progress(`written ${OUT}`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

main().catch((error) => {
  progress(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
