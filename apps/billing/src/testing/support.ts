import {
  CaregiverUpserted,
  ElderAbsenceEnded,
  ElderAbsenceRecorded,
  DispatchTopics,
  ElderRegistered,
  ElderStatusChanged,
  PriceChanged,
  RegistryTopics,
  VisitApproved,
  VisitVerified,
  type ElderSnapshot,
  type Envelope,
  type EventDefinition,
  type VisitRecord,
} from '@yiyang/contracts';
import { envelopeHeaders, newEnvelope } from '@yiyang/messaging';
import { testKafka, uniqueSuffix } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { BillingAppModule } from '../app.module';

// Test support for billing's integration tests: the registry's and dispatch's events are produced
// onto their REAL topics (with this test's own random ids), exactly as those services publish them.

export const CITY = '130200000000';
export const COUNTY = '130203000000';
export const COMMUNITY = '130203001001';
export const admin: Principal = { userId: 'bureau', role: 'civil_affairs_admin', regionCode: COUNTY };

/** Consumer groups of one test file, shared by every boot of the app in that file (same database). */
export function testAppModule() {
  return BillingAppModule.forRoot({ groupPrefix: `test-billing-${process.env['MONGO_DB']}`, retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 } });
}

/**
 * New consumer groups start from the beginning of each topic, which on a long-lived local broker
 * means replaying every earlier run's registry history. The test's groups start at the current end
 * instead: everything this test produces afterwards is seen, nothing older is.
 */
export async function startGroupsAtEnd(): Promise<void> {
  const prefix = `test-billing-${process.env['MONGO_DB']}`;
  const groups: Record<string, string[]> = {
    registry: [RegistryTopics.elders, RegistryTopics.catalogue, RegistryTopics.regions, RegistryTopics.providers, RegistryTopics.facilities, RegistryTopics.caregivers].map((t) => t.name),
    visits: [DispatchTopics.visits.name],
  };
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  // One short-lived member per group commits the current end of every partition (one join per
  // group, in parallel — admin.setOffsets would join once per topic).
  await Promise.all(
    Object.entries(groups).map(async ([group, topics]) => {
      const ends = await Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })));
      const consumer = kafka.consumer({ groupId: `${prefix}.${group}` });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: false });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
      await joined;
      await consumer.commitOffsets(ends.flatMap(({ topic, offsets }) => offsets.map((o) => ({ topic, partition: o.partition, offset: o.high }))));
      await consumer.disconnect();
    }),
  );
  await admin.disconnect();
}

export async function produce(envelopes: { definition: EventDefinition<unknown>; envelope: Envelope }[]): Promise<void> {
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
    for (const { definition, envelope } of envelopes) {
      const list = byTopic.get(definition.topic.name) ?? [];
      list.push({ key: envelope.key, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope.type) });
      byTopic.set(definition.topic.name, list);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  } finally {
    await producer.disconnect();
  }
}

export function event<P>(definition: EventDefinition<P>, key: string, payload: P, producer = 'test', occurredAt?: string) {
  return { definition: definition as EventDefinition<unknown>, envelope: newEnvelope(producer, definition, { key, payload, occurredAt: occurredAt ? new Date(occurredAt) : undefined }) as Envelope };
}

export function elderSnapshot(over: Partial<ElderSnapshot> = {}): ElderSnapshot {
  const elderId = over.elderId ?? `eld-${uniqueSuffix()}`;
  return {
    elderId,
    regionCode: COMMUNITY,
    regionPath: ['130000000000', CITY, COUNTY, '130203001000', COMMUNITY],
    name: '张桂兰',
    gender: 'FEMALE',
    birthDate: '1941-05-02',
    homeAddress: `路北区文北社区${elderId}号`,
    home: { lat: 39.641, lng: 118.171 },
    homeCell: '8931aa4a5a7ffff',
    categories: ['LIVING_ALONE'],
    capabilityLevel: 'MODERATE',
    status: 'ACTIVE',
    statusSince: '2020-01-01',
    guardians: [],
    preferences: { caregiverGender: null },
    version: 1,
    ...over,
  };
}

/** Registered on `on` (Asia/Shanghai date): entitlements start from the registration date. */
export const registered = (elder: ElderSnapshot, on = '2026-01-01') => event(ElderRegistered, elder.elderId, { elder }, 'registry', `${on}T09:00:00+08:00`);
export const statusChanged = (elder: ElderSnapshot, to: 'DECEASED' | 'MOVED_OUT', effectiveOn: string) =>
  event(ElderStatusChanged, elder.elderId, { elder: { ...elder, status: to, statusSince: effectiveOn, version: elder.version + 1 }, from: 'ACTIVE', to, effectiveOn, reason: 'test' }, 'registry');
export const price = (providerId: string, itemCode: string, priceFen: number, effectiveFrom: string, version = 1) =>
  event(PriceChanged, itemCode, { price: { providerId, itemCode, priceFen, effectiveFrom, version } }, 'registry');

export function visit(over: Partial<VisitRecord> & Pick<VisitRecord, 'elderId' | 'providerId' | 'itemCode' | 'serviceDate'>): VisitRecord {
  const startedAt = over.startedAt ?? `${over.serviceDate}T01:00:00.000Z`;
  return {
    visitId: `vis-${uniqueSuffix()}`,
    orderId: `ord-${uniqueSuffix()}`,
    caregiverId: 'cg-1',
    category: 'CLEANING',
    unit: 'PER_HOUR',
    regionCode: COMMUNITY,
    regionPath: ['130000000000', CITY, COUNTY, '130203001000', COMMUNITY],
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + 60 * 60_000).toISOString(),
    quantity: 1,
    bookedMinutes: 60,
    actualMinutes: 60,
    home: { lat: 39.641, lng: 118.171 },
    geofenceMeters: 100,
    checkIn: { at: startedAt, location: { lat: 39.641, lng: 118.171 }, distanceMeters: 5, accuracyMeters: 10 },
    checkOut: null,
    flags: [],
    state: 'VERIFIED',
    version: 3,
    ...over,
  };
}
export const verified = (v: VisitRecord) => event(VisitVerified, v.visitId, { visit: v }, 'dispatch');
export const approved = (v: VisitRecord) =>
  event(VisitApproved, v.visitId, { visit: { ...v, state: 'APPROVED' }, reason: 'checked by phone', by: { userId: 'op', role: 'provider_operator' }, at: new Date().toISOString() }, 'dispatch');

type Absence = { absenceId: string; elderId: string; regionCode: string; kind: 'AWAY' | 'IN_HOSPITAL'; from: string; to: string | null; version: number };
export const absenceRecorded = (a: Absence) =>
  event(ElderAbsenceRecorded, a.elderId, { elderId: a.elderId, absenceId: a.absenceId, kind: a.kind, from: a.from, to: a.to, regionCode: a.regionCode, absence: a }, 'registry');
export const absenceEnded = (a: Absence & { to: string }, previousTo: string | null = null) =>
  event(ElderAbsenceEnded, a.elderId, { elderId: a.elderId, absenceId: a.absenceId, kind: a.kind, from: a.from, to: a.to, previousTo, regionCode: a.regionCode, absence: a }, 'registry');

/** A caregiver of `providerId` as the registry announces it, at `on` (Asia/Shanghai date of the event). */
export const caregiverEvent = (
  c: { caregiverId: string; providerId: string; active: boolean; version: number; certifications?: { name: string; number: string; expiresOn: string }[] },
  on: string,
) =>
  event(
    CaregiverUpserted,
    c.caregiverId,
    {
      caregiver: {
        kind: 'CAREGIVER', name: '李秀英', gender: 'FEMALE', regionCode: COMMUNITY, skills: ['CLEAN-1H'], certifications: [], homeBase: { lat: 39.641, lng: 118.171 },
        homeBaseCell: '8931aa4a5a7ffff', weeklyAvailability: [], ...c,
      },
    },
    'registry',
    `${on}T09:00:00+08:00`,
  );

/** A monthly allowance policy like Changchun's (200 yuan a month), on cleaning and meals. */
export function allowancePolicy(code: string, over: Record<string, unknown> = {}) {
  return {
    code,
    nameZh: '居家养老服务补贴',
    nameEn: 'Home-care allowance',
    regionCode: COUNTY,
    effectiveFrom: '2026-01-01',
    eligibility: { categoriesAny: ['LIVING_ALONE', 'DESTITUTE'] },
    benefit: { kind: 'MONTHLY_ALLOWANCE', amountFen: 20_000, unusedBalance: 'LAPSE' },
    eligibleCategories: ['CLEANING'],
    funding: [{ fundSource: 'COUNTY', sharePercent: 100 }],
    ...over,
  };
}
