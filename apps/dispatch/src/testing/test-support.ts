import { ConfigService } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  CaregiverUpserted,
  CatalogueItemUpserted,
  ElderRegistered,
  ProviderUpserted,
  ServiceContractUpserted,
  type CaregiverSnapshot,
  type ElderSnapshot,
  type EventDefinition,
} from '@yiyang/contracts';
import { h3Cell, regionPath } from '@yiyang/geo';
import { EventPublisher, MESSAGING_OPTIONS, newEnvelope, parseBrokers } from '@yiyang/messaging';
import { testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import { configureServiceApp, createFastifyAdapter } from '@yiyang/service-kit';
import type { z } from 'zod';
import { DispatchModule } from '../app.module';
import { ReadModels } from '../read-models/read-models.service';
import { SERVICE } from '../service';

/**
 * Boots dispatch against the real Kafka and database like `bootTestApp`, with the test's own
 * consumer groups starting at the END of the shared topics (a long-lived local broker holds every
 * earlier run's events; replaying them all into each test's fresh database would take minutes).
 * The test then publishes the registry events it needs, as the registry would.
 */
export async function bootDispatch(groupPrefix: string, env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [DispatchModule.forRoot({ groupPrefix, env: { LOG_LEVEL: 'warn', ...env }, retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 } })],
  })
    .overrideProvider(MESSAGING_OPTIONS)
    .useFactory({
      factory: (config: ConfigService) => ({
        service: 'dispatch',
        brokers: parseBrokers(config.get('KAFKA_BROKERS')),
        groupPrefix,
        fromBeginning: false,
        retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 },
        outbox: { idlePollMs: 50 },
      }),
      inject: [ConfigService],
    })
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
  configureServiceApp(app, SERVICE);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await waitForGroups(groupPrefix);
  return app;
}

/** Until every consumer group of this app is Stable with members (joined; offsets then resolve to the end). */
async function waitForGroups(groupPrefix: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await waitFor(async () => {
      const { groups } = await admin.listGroups();
      const mine = groups.filter((g) => g.groupId.startsWith(`${groupPrefix}.`)).map((g) => g.groupId);
      if (mine.length === 0) return false;
      const described = await admin.describeGroups(mine);
      return described.groups.every((g) => g.state === 'Stable' && g.members.length > 0);
    }, 'dispatch consumer groups to join', 60_000);
  } finally {
    await admin.disconnect();
  }
  await new Promise((r) => setTimeout(r, 1500));
}

/** Publishes registry events the way the registry does (real envelopes, real topics). */
export class RegistryFeed {
  constructor(private readonly publisher: EventPublisher) {}

  static async connect(): Promise<RegistryFeed> {
    const publisher = new EventPublisher(testKafka());
    await publisher.connect();
    return new RegistryFeed(publisher);
  }

  async publish<P>(definition: EventDefinition<P>, key: string, payload: P): Promise<void> {
    const envelope = newEnvelope('registry', definition, { key, payload });
    await this.publisher.publish([envelope as never], () => definition.topic.name);
  }

  close(): Promise<void> {
    return this.publisher.disconnect();
  }
}

/** A random test district under a made-up province, so runs never meet each other's data. */
export function testDistrict() {
  const two = (max: number) => String(1 + Math.floor(Math.random() * max)).padStart(2, '0');
  const county = `${70 + Math.floor(Math.random() * 29)}${two(99)}${two(99)}000000`;
  const street = `${county.slice(0, 6)}001000`;
  return { county, street, community: `${street.slice(0, 9)}001`, otherCommunity: `${street.slice(0, 9)}002` };
}

export const HOME = { lat: 39.641, lng: 118.171 };

export function elderSnapshot(community: string, overrides: Partial<ElderSnapshot> = {}): ElderSnapshot {
  const home = overrides.home ?? HOME;
  return {
    elderId: `e-${uniqueSuffix()}`,
    regionCode: community,
    regionPath: regionPath(community),
    name: '张桂兰',
    gender: 'FEMALE',
    birthDate: '1940-03-02',
    homeAddress: '文北里 3 号',
    home,
    homeCell: h3Cell(home),
    categories: ['LIVING_ALONE', 'ADVANCED_AGE'],
    capabilityLevel: 'MILD',
    status: 'ACTIVE',
    statusSince: '2024-01-01',
    guardians: [{ guardianId: `g-${uniqueSuffix()}`, name: '李明', relation: '儿子', phone: '13800000000' }],
    preferences: { caregiverGender: null },
    version: 1,
    ...overrides,
  };
}

type Caregiver = z.infer<typeof CaregiverSnapshot>;
/** Available every day, all day, certified until 2030. */
export function caregiverSnapshot(providerId: string, community: string, overrides: Partial<Caregiver> = {}): Caregiver {
  const homeBase = overrides.homeBase ?? { lat: HOME.lat + 0.003, lng: HOME.lng + 0.002 };
  return {
    caregiverId: `c-${uniqueSuffix()}`,
    providerId,
    kind: 'CAREGIVER',
    name: '王秀兰',
    gender: 'FEMALE',
    regionCode: community,
    skills: ['MEAL_DELIVERY', 'HOME_CLEANING', 'BATHING_ASSIST'],
    certifications: [{ name: '养老护理员（四级）', number: 'YL-1', expiresOn: '2030-12-31' }],
    homeBase,
    homeBaseCell: h3Cell(homeBase),
    weeklyAvailability: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, from: '00:00', to: '24:00' })),
    active: true,
    version: 1,
    ...overrides,
  };
}

/** A provider under contract for `regions`, a catalogue, and waits until dispatch has them. */
export async function seedNetwork(app: NestFastifyApplication, feed: RegistryFeed, regions: string[], providerId = `p-${uniqueSuffix()}`) {
  const items = [
    { code: 'MEAL_DELIVERY', nameZh: '送餐上门', nameEn: 'Meal delivery', category: 'MEALS', unit: 'PER_MEAL', defaultDurationMinutes: 20 },
    { code: 'HOME_CLEANING', nameZh: '居家保洁', nameEn: 'Home cleaning', category: 'CLEANING', unit: 'PER_HOUR', defaultDurationMinutes: 120 },
    { code: 'BATHING_ASSIST', nameZh: '助浴', nameEn: 'Bathing', category: 'BATHING', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  ] as const;
  const rm = app.get(ReadModels);
  for (const item of items) {
    const version = (rm.catalogue.get(item.code)?.version ?? 0) + 1;
    await feed.publish(CatalogueItemUpserted, item.code, { item: { ...item, active: true, version } });
  }
  await feed.publish(ProviderUpserted, providerId, {
    provider: { providerId, name: '乐龄居家养老服务中心', type: 'SOCIAL_ORGANISATION', licenceNumber: 'L-1', contactPhone: '0315-1', serviceAreas: regions, offeredItems: items.map((i) => i.code), active: true, version: 1 },
  });
  for (const region of regions) {
    await feed.publish(ServiceContractUpserted, providerId, {
      contract: { contractId: `k-${uniqueSuffix()}`, providerId, regionCode: region, facilityId: null, validFrom: '2024-01-01', validTo: null, version: 1 },
    });
  }
  await waitFor(() => rm.providers.has(providerId) && rm.contractedProviders(regionPath(regions[0]), '2026-06-01').includes(providerId) && items.every((i) => rm.catalogue.has(i.code)), 'provider, contracts and catalogue in dispatch', 90_000);
  return providerId;
}

export async function seedElder(app: NestFastifyApplication, feed: RegistryFeed, elder: ElderSnapshot): Promise<ElderSnapshot> {
  await feed.publish(ElderRegistered, elder.elderId, { elder });
  const rm = app.get(ReadModels);
  await waitFor(async () => (await rm.elder(elder.elderId))?.version === elder.version, `elder ${elder.elderId} in dispatch`, 90_000);
  return elder;
}

export async function seedCaregiver(app: NestFastifyApplication, feed: RegistryFeed, caregiver: Caregiver): Promise<Caregiver> {
  await feed.publish(CaregiverUpserted, caregiver.caregiverId, { caregiver });
  const rm = app.get(ReadModels);
  await waitFor(() => rm.caregivers.get(caregiver.caregiverId)?.version === caregiver.version, `caregiver ${caregiver.caregiverId} in dispatch`, 90_000);
  return caregiver;
}
