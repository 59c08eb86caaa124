import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getConnectionToken } from '@nestjs/mongoose';
import { ElderRegistered, RegistryTopics } from '@yiyang/contracts';
import { EventPublisher, Events } from '@yiyang/messaging';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { EldersService } from './elders.service';
import { BATCHES, COMMITS, ImportEventBatches } from './import-events';
import { bootRegistry, buildRegions, closeRegistry, COMMUNITY, LUBEI, rosterRow } from './test-support';

describe('roster import events: one outbox batch per 1,000 rows (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let sink: Awaited<ReturnType<typeof collect>>;
  let connection: Connection;
  const auditor: Principal = { userId: 'auditor-1', role: 'auditor', regionCode: '130203000000' };
  const byCorrelation = (correlationId: string, type: string) => sink.records.filter((r) => r.correlationId === correlationId && r.type === type);

  beforeAll(async () => {
    app = await bootRegistry();
    sink = await collect(testKafka(), [RegistryTopics.elders.name]);
    await buildRegions(app);
    connection = app.get<Connection>(getConnectionToken());
  });
  afterAll(async () => {
    await sink?.stop();
    await closeRegistry(app);
  });

  it('publishes exactly one event per registered or changed elder, audits the batch once, and leaves no outbox behind', async () => {
    const service = app.get(EldersService);
    const first = `import-${uniqueSuffix()}`;
    const rows = Array.from({ length: 40 }, (_, i) => rosterRow(30_000 + i));
    const created = await service.upsertMany(LUBEI, rows, first, { importId: first });
    const ids = created.map((r) => ('elderId' in r ? r.elderId : 'failed'));
    expect(ids).not.toContain('failed');

    await waitFor(() => byCorrelation(first, ElderRegistered.type).length >= 40 || undefined, '40 ElderRegistered');
    const registered = byCorrelation(first, ElderRegistered.type);
    expect(registered.map((r) => r.key).sort()).toEqual([...ids].sort());
    expect(new Set(registered.map((r) => r.eventId)).size).toBe(40);
    const one = JSON.parse(registered[0].value);
    expect(ElderRegistered.payload.safeParse(one.payload).success).toBe(true);
    expect(one.payload.elder).toMatchObject({ elderId: one.key, version: 1 });
    // Published batches are deleted; the elders never carried an outbox entry of their own.
    await waitFor(async () => (await connection.collection(COMMITS).countDocuments({})) === 0 || undefined, 'commits drained');
    expect(await connection.collection(BATCHES).countDocuments({})).toBe(0);
    expect(await connection.collection('elders').countDocuments({ outboxPending: true })).toBe(0);

    // A re-run with two people changed and one new: one lookup-first pass, two updates, one registration.
    const again = `reimport-${uniqueSuffix()}`;
    const changed = rows.map((row, i) => (i < 2 ? { ...row, homeAddress: `${row.homeAddress}（新址）` } : row));
    const results = await service.upsertMany(LUBEI, [...changed, rosterRow(30_999)], again, { importId: again, lookupFirst: true });
    expect(results.filter((r) => 'outcome' in r && r.outcome === 'unchanged')).toHaveLength(38);
    await waitFor(() => byCorrelation(again, 'registry.elder.updated').length >= 2 || undefined, 'two ElderUpdated');
    await waitFor(() => byCorrelation(again, ElderRegistered.type).length >= 1 || undefined, 'one ElderRegistered');
    expect(byCorrelation(again, 'registry.elder.updated').map((r) => r.key).sort()).toEqual([ids[0], ids[1]].sort());

    const audit = (await app.inject({ method: 'GET', url: `/audit?action=ELDER_ROSTER_BATCH_IMPORTED`, headers: asPrincipal(auditor) })).json();
    const entries = audit.items.filter((e: { correlationId: string }) => e.correlationId === first || e.correlationId === again);
    expect(entries).toHaveLength(2);
    expect(entries.find((e: { correlationId: string }) => e.correlationId === first).details).toMatchObject({ importId: first, created: 40, updated: 0 });
    // An elder's audit trail includes the batch that registered them.
    const trail = (await app.inject({ method: 'GET', url: `/audit?elderId=${ids[5]}`, headers: asPrincipal(auditor) })).json();
    expect(trail.items.map((e: { action: string }) => e.action)).toContain('ELDER_ROSTER_BATCH_IMPORTED');
  });

  it('when publishing a committed batch from memory fails, the relay takes it over and publishes each stored elder’s event once', async () => {
    const service = app.get(EldersService);
    const publisher = app.get(EventPublisher);
    const correlationId = `handover-${uniqueSuffix()}`;
    const rows = Array.from({ length: 5 }, (_, i) => rosterRow(32_000 + i));
    // The broker refuses the writer's first send (as during a broker restart); everything after goes through.
    const send = jest.spyOn(publisher, 'send').mockImplementationOnce(async () => {
      throw new Error('broker unavailable');
    });
    try {
      const results = await service.upsertMany(LUBEI, rows, correlationId, { importId: correlationId });
      const ids = results.map((r) => ('elderId' in r ? r.elderId : 'failed'));
      await app.get(ImportEventBatches).flushPublishes();
      await waitFor(() => byCorrelation(correlationId, ElderRegistered.type).length >= 5 || undefined, 'five ElderRegistered via the relay');
      await waitFor(async () => (await connection.collection(COMMITS).countDocuments({})) === 0 || undefined, 'commits drained');
      await new Promise((r) => setTimeout(r, 500));
      const published = byCorrelation(correlationId, ElderRegistered.type);
      expect(published.map((r) => r.key).sort()).toEqual([...ids].sort());
      expect(new Set(published.map((r) => r.eventId)).size).toBe(5);
      expect(await connection.collection(BATCHES).countDocuments({})).toBe(0);
    } finally {
      send.mockRestore();
    }
  });

  it('after a crash between writing the elders and committing, the sweeper publishes exactly the events of the elders stored', async () => {
    const batches = app.get(ImportEventBatches);
    const events = app.get(Events);
    const correlationId = `crash-${uniqueSuffix()}`;
    const elderIds = [uuidv7(), uuidv7(), uuidv7()];
    const rows = elderIds.map((elderId, i) => {
      const row = rosterRow(31_000 + i);
      const elder = {
        elderId,
        regionCode: COMMUNITY,
        regionPath: ['130000000000', '130200000000', '130203000000', '130203001000', COMMUNITY],
        name: row.name,
        gender: row.gender,
        birthDate: row.birthDate as string,
        homeAddress: row.homeAddress,
        home: row.home,
        homeCell: '8931aa2b3ffffff',
        categories: [],
        capabilityLevel: null,
        status: 'ACTIVE' as const,
        statusSince: '2026-11-23',
        guardians: [],
        preferences: { caregiverGender: null },
        version: 1,
      };
      return { elderId, event: events.create(ElderRegistered, { key: elderId, correlationId, payload: { elder } }) };
    });
    // The writer prepared the batch and stored two of the three elders, then died before committing.
    const prepared = await batches.prepare('crashed-import', rows);
    await connection.collection('elders').insertMany(
      elderIds.slice(0, 2).map((_id, i) => ({ _id, idCardHash: `crash-${correlationId}-${i}`, regionPath: [] })) as never[],
    );
    // Nothing of a prepared batch is published while its writer may still be at work…
    await new Promise((r) => setTimeout(r, 1_500));
    expect(byCorrelation(correlationId, ElderRegistered.type)).toHaveLength(0);

    // …and once its lease is over, the sweeper commits it with what was stored.
    await connection.collection(BATCHES).updateOne({ _id: prepared.batchId } as never, { $set: { leaseUntil: new Date(Date.now() - 1_000) } });
    await batches.sweep(new Date()); // (the relay's own periodic sweep may get there first: same outcome)
    batches.nudge();
    await waitFor(() => byCorrelation(correlationId, ElderRegistered.type).length >= 2 || undefined, 'the two stored elders’ events');
    await waitFor(async () => (await connection.collection(BATCHES).countDocuments({ _id: prepared.batchId } as never)) === 0 || undefined, 'batch deleted');
    await new Promise((r) => setTimeout(r, 500));
    expect(byCorrelation(correlationId, ElderRegistered.type).map((r) => r.key).sort()).toEqual(elderIds.slice(0, 2).sort());

    // The writer, had it only stalled, finds its batch swept and re-issues what the sweeper left out for an elder it did store.
    const late = await batches.prepare('stalled-import', [rows[2]]);
    await connection.collection('elders').insertOne({ _id: elderIds[2], idCardHash: `crash-${correlationId}-2`, regionPath: [] } as never);
    await connection.collection(COMMITS).insertOne({ _id: late.batchId, excluded: [rows[2].event.envelope.eventId], at: new Date(), by: 'sweeper' } as never);
    await batches.commit(late, [], [rows[2]]);
    await waitFor(() => byCorrelation(correlationId, ElderRegistered.type).length >= 3 || undefined, 'the re-issued event');
    expect(byCorrelation(correlationId, ElderRegistered.type).map((r) => r.key).sort()).toEqual([...elderIds].sort());
  });
});
