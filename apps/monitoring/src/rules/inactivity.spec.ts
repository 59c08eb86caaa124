import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MonitoringTopics } from '@yiyang/contracts';
import { collect, testKafka, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import { bootMonitoring, dropAndClose, elderSnapshot, LUBEI, publishElder, startGroupsAtEnd, uid } from '../test-support';
import { RuleEngine } from './rule-engine';

jest.setTimeout(90_000);

// INACTIVITY through the real broker and database: no door/motion/bed activity for N hours at the
// home of someone living alone raises one alert, activity resolves it; someone who does not live
// alone is never alerted. Hours cannot pass in a test: the rule tick is driven with a later clock.

type Sink = Awaited<ReturnType<typeof collect>>;
const payloadOf = (r: CollectedRecord) => JSON.parse(r.value).payload as Record<string, unknown> & { elderId?: string; alertId: string; kind: string };
const alertsOf = (sink: Sink, elderId: string, type: string) =>
  sink.records.filter((r) => r.type === type).map(payloadOf).filter((p) => p.elderId === elderId && p.kind === 'INACTIVITY');

describe('INACTIVITY rule (real Kafka + database)', () => {
  const prefix = uid('test-inactivity');
  const vendorId = uid('vendor').toLowerCase();
  const alone = uid('elder');
  const withFamily = uid('elder');
  let app: NestFastifyApplication;
  let sink: Sink;
  let apiKey: string;

  const ingest = (readings: object[]) => app.inject({ method: 'POST', url: '/telemetry', headers: { 'x-api-key': apiKey }, payload: { readings } });
  const register = async (externalId: string, elderId: string) => {
    const res = await app.inject({ method: 'POST', url: '/devices', headers: asPrincipal(LUBEI), payload: { vendorId, externalId, model: 'YY-D1', kind: 'DOOR_SENSOR', elderId } });
    expect(res.statusCode).toBe(201);
    return res.json().deviceId as string;
  };

  beforeAll(async () => {
    await startGroupsAtEnd(prefix);
    // The tick runs only when the test drives it (a long RULE_TICK_MS keeps the real clock out).
    app = await bootMonitoring(prefix, { RULE_TICK_MS: '3600000' });
    sink = await collect(testKafka(), [MonitoringTopics.alerts.name]);
    await publishElder(app, elderSnapshot(alone));
    await publishElder(app, elderSnapshot(withFamily, { categories: ['ADVANCED_AGE'] }));
    const facts = app.get(RegistryFacts);
    await waitFor(() => facts.elder(alone) && facts.elder(withFamily), 'registry facts');
    const vendor = await app.inject({ method: 'POST', url: '/vendors', headers: asPrincipal(LUBEI), payload: { vendorId, name: '门磁厂商' } });
    apiKey = vendor.json().apiKey;
    for (const elderId of [alone, withFamily]) {
      const put = await app.inject({ method: 'PUT', url: `/alert-thresholds/${elderId}`, headers: asPrincipal(LUBEI), payload: { inactivityHours: 1 } });
      expect(put.statusCode).toBe(200);
    }
  });

  afterAll(async () => {
    await sink?.stop();
    await dropAndClose(app);
  });

  it('raises INACTIVITY once for someone living alone after N quiet hours, and resolves it when the door opens', async () => {
    const door = await register('door-alone', alone);
    await register('door-family', withFamily);
    // The door opened a minute ago (through ingestion, Kafka and the rule consumer).
    const openedAt = Date.now() - 60_000;
    expect((await ingest([{ externalId: 'door-alone', kind: 'ACTIVITY', at: openedAt }])).json()).toMatchObject({ accepted: 1 });
    const engine = app.get(RuleEngine);
    await waitFor(() => engine.live(door), 'the reading evaluated');

    // Half an hour of quiet: nothing yet.
    await engine.tick(Date.now() + 30 * 60_000);
    // Ninety minutes of quiet: over the elder's own 1-hour limit.
    const later = Date.now() + 90 * 60_000;
    await engine.tick(later);
    await engine.tick(later + 60_000); // a second look at the same quiet period adds nothing
    const raised = await waitFor(() => alertsOf(sink, alone, 'monitoring.alert.raised')[0], 'INACTIVITY raised');
    expect(raised).toMatchObject({ kind: 'INACTIVITY', severity: 'HIGH', elderId: alone, emergency: false });
    const view = (await app.inject({ method: 'GET', url: `/alerts/${raised.alertId}`, headers: asPrincipal(LUBEI) })).json();
    expect(view).toMatchObject({ status: 'RAISED', kind: 'INACTIVITY' });
    expect(view.reason).toMatch(/lives alone/);

    // The door opens again: the alert resolves itself.
    await ingest([{ externalId: 'door-alone', kind: 'ACTIVITY', at: Date.now() }]);
    const resolved = await waitFor(() => alertsOf(sink, alone, 'monitoring.alert.resolved')[0], 'INACTIVITY resolved');
    expect(resolved).toMatchObject({ alertId: raised.alertId, outcome: 'RESOLVED', resolvedBy: null });

    await new Promise((r) => setTimeout(r, 1_000));
    expect(alertsOf(sink, alone, 'monitoring.alert.raised')).toHaveLength(1);
    // Same quiet hours for someone who does not live alone: no alert.
    expect(alertsOf(sink, withFamily, 'monitoring.alert.raised')).toHaveLength(0);
  });
});
