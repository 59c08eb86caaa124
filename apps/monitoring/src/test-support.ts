import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  DispatchTopics,
  ElderRegistered,
  FacilityUpserted,
  MonitoringTopics,
  RegistryTopics,
  type ElderSnapshot,
  type EventDefinition,
} from '@yiyang/contracts';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { testKafka, uniqueSuffix } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { bootTestApp } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { AppModule } from './app.module';
import { SERVICE } from './service';

// Integration-test support: the real local Kafka and FerretDB, this file's own database.

export const LUBEI: Principal = { userId: 'lubei-admin', role: 'civil_affairs_admin', regionCode: '130203000000' };
export const LUNAN: Principal = { userId: 'lunan-admin', role: 'civil_affairs_admin', regionCode: '130202000000' };
export const COMMUNITY = '130203001001';
export const STREET = '130203001000';
export const COUNTY = '130203000000';

/** Consumer groups of the service and the topics each reads (see the @HandleEvent groups). */
const GROUP_TOPICS: Record<string, string[]> = {
  'registry-facts': [RegistryTopics.elders.name, RegistryTopics.facilities.name, RegistryTopics.regions.name],
  rules: [MonitoringTopics.telemetry.name],
  'emergency-sync': [DispatchTopics.emergencies.name],
};

/**
 * A fresh consumer group would replay every earlier run's events on the shared local broker.
 * Tests start their groups at the current end instead (committing offsets before the first join).
 */
export async function startGroupsAtEnd(groupPrefix: string, extra: Record<string, string[]> = {}): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    for (const [group, topics] of Object.entries({ ...GROUP_TOPICS, ...extra })) {
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({ groupId: `${groupPrefix}.${group}`, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
      }
    }
  } finally {
    await admin.disconnect();
  }
}

export const FAST_TIMERS = {
  RULE_TICK_MS: '250',
  RULE_CHECKPOINT_MS: '100',
  ESCALATION_POLL_MS: '200',
  DIRECTORY_REFRESH_MS: '500',
  SILENCE_BOOT_GRACE_MS: '0',
  LOG_LEVEL: 'warn',
};

export async function bootMonitoring(groupPrefix: string, env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  return bootTestApp(AppModule.forRoot({ groupPrefix, env: { ...FAST_TIMERS, ...env }, retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 } }), SERVICE);
}

export async function dropAndClose(app: NestFastifyApplication | undefined): Promise<void> {
  if (!app) return;
  await app.get<Connection>(getConnectionToken()).dropDatabase().catch(() => undefined);
  await app.close();
}

/** Publishes as the registry would (the test stands in for it). */
export async function publishAs<P>(app: NestFastifyApplication, producer: string, definition: EventDefinition<P>, key: string, payload: P): Promise<string> {
  const envelope = newEnvelope(producer, definition, { key, payload });
  await app.get(EventPublisher).publish([envelope], () => definition.topic.name);
  return envelope.eventId;
}

export function elderSnapshot(elderId: string, overrides: Partial<ElderSnapshot> = {}): ElderSnapshot {
  return {
    elderId,
    regionCode: COMMUNITY,
    regionPath: ['130000000000', '130200000000', COUNTY, STREET, COMMUNITY],
    name: `测试老人${elderId.slice(-4)}`,
    gender: 'FEMALE',
    birthDate: '1941-03-08',
    homeAddress: '文北社区 3-2-101',
    home: { lat: 39.641, lng: 118.171 },
    homeCell: '8931aa0e2cbffff',
    categories: ['LIVING_ALONE', 'ADVANCED_AGE'],
    capabilityLevel: 'MILD',
    status: 'ACTIVE',
    statusSince: '2024-01-01',
    guardians: [{ guardianId: 'g1', name: '李明', relation: '儿子', phone: '13800000000' }],
    preferences: { caregiverGender: null },
    version: 1,
    ...overrides,
  };
}

export async function publishElder(app: NestFastifyApplication, elder: ElderSnapshot): Promise<void> {
  await publishAs(app, 'registry', ElderRegistered, elder.elderId, { elder });
}

export async function publishInstitution(app: NestFastifyApplication, facilityId: string, providerId: string): Promise<void> {
  await publishAs(app, 'registry', FacilityUpserted, facilityId, {
    facility: {
      facilityId,
      kind: 'INSTITUTION',
      name: '路北区第一敬老院',
      regionCode: STREET,
      regionPath: ['130000000000', '130200000000', COUNTY, STREET],
      address: '乔屯街道 8 号',
      location: { lat: 39.64, lng: 118.17 },
      locationCell: '8931aa0e2cbffff',
      providerId,
      openingHours: [],
      capacity: 120,
      beds: { total: 120, nursing: 100, occupied: 90 },
      open: true,
      version: 1,
    },
  });
}

export const uid = (prefix: string) => `${prefix}-${uniqueSuffix()}`;
