import 'reflect-metadata';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MonitoringTopics, TelemetryReadings } from '@yiyang/contracts';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { collect, testKafka, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { RegistryFacts } from './registry-facts/registry-facts.service';
import {
  bootMonitoring,
  dropAndClose,
  elderSnapshot,
  LUBEI,
  LUNAN,
  publishElder,
  publishInstitution,
  startGroupsAtEnd,
  uid,
} from './test-support';

jest.setTimeout(90_000);

type Sink = Awaited<ReturnType<typeof collect>>;
const payloadOf = (r: CollectedRecord) => JSON.parse(r.value).payload as Record<string, unknown> & { deviceId: string; alertId: string };
const ofDevice = (sink: Sink, deviceId: string, type: string) => sink.records.filter((r) => r.type === type && payloadOf(r).deviceId === deviceId).map(payloadOf);

describe('monitoring: devices → telemetry → rules → alerts (real Kafka + database)', () => {
  const prefix = uid('test-monitoring');
  let app: NestFastifyApplication;
  let sink: Sink;
  let apiKey: string;
  const vendorId = uid('vendor').toLowerCase();
  const elder1 = uid('elder');
  const elder2 = uid('elder');
  const facility = uid('facility');
  const provider = uid('provider');
  const devices: Record<string, string> = {};
  let sosAt = 0;

  const ingest = (readings: object[], key = apiKey) =>
    app.inject({ method: 'POST', url: '/telemetry', headers: { 'x-api-key': key }, payload: { readings } });
  const register = async (externalId: string, body: object) => {
    const res = await app.inject({ method: 'POST', url: '/devices', headers: asPrincipal(LUBEI), payload: { vendorId, externalId, model: 'YY-1', ...body } });
    expect(res.statusCode).toBe(201);
    devices[externalId] = res.json().deviceId;
    return res.json();
  };
  const boot = async () => {
    app = await bootMonitoring(prefix, { ALERT_ACK_SECONDS_CRITICAL: '3' });
  };

  beforeAll(async () => {
    await startGroupsAtEnd(prefix);
    await boot();
    sink = await collect(testKafka(), [MonitoringTopics.alerts.name, MonitoringTopics.devices.name]);
    await publishElder(app, elderSnapshot(elder1));
    await publishElder(app, elderSnapshot(elder2, { categories: ['EMPTY_NEST'] }));
    await publishInstitution(app, facility, provider);
    const facts = app.get(RegistryFacts);
    await waitFor(() => facts.elder(elder1) && facts.elder(elder2) && facts.facility(facility), 'registry facts');
    const vendor = await app.inject({ method: 'POST', url: '/vendors', headers: asPrincipal(LUBEI), payload: { vendorId, name: '颐康科技' } });
    expect(vendor.statusCode).toBe(201);
    apiKey = vendor.json().apiKey;
    // Registered first so its silence (3 × 10 s) has begun by the time its test runs.
    await register('quiet-door', { kind: 'DOOR_SENSOR', elderId: elder2, heartbeatIntervalSec: 10 });
  });

  afterAll(async () => {
    await sink?.stop();
    await dropAndClose(app);
  });

  it('registers devices to elders and facilities it learned from the registry, within the bureau’s region', async () => {
    const watch = await register('watch-1', { kind: 'SMART_WATCH', elderId: elder1, battery: 80 });
    expect(watch).toMatchObject({ kind: 'SMART_WATCH', elderId: elder1, regionCode: '130203001001', heartbeatIntervalSec: 300, active: true, version: 1 });
    await register('sos-1', { kind: 'SOS_BUTTON', elderId: elder1 });
    await register('watch-2', { kind: 'SMART_WATCH', elderId: elder2 });
    await register('watch-3', { kind: 'SMART_WATCH', elderId: elder1 });
    await register('smoke-1', { kind: 'SMOKE_DETECTOR', facilityId: facility });

    const announced = await waitFor(() => sink.records.find((r) => r.type === 'monitoring.device.registered' && r.key === watch.deviceId), 'DeviceRegistered');
    expect(payloadOf(announced)).toMatchObject({ device: { deviceId: watch.deviceId, elderId: elder1, kind: 'SMART_WATCH' } });

    const other = await app.inject({ method: 'GET', url: `/devices/${watch.deviceId}`, headers: asPrincipal(LUNAN) });
    expect(other.statusCode).toBe(404);
    const dup = await app.inject({ method: 'POST', url: '/devices', headers: asPrincipal(LUBEI), payload: { vendorId, externalId: 'watch-1', kind: 'SMART_WATCH', model: 'X', elderId: elder1 } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'MONITORING.DEVICE_EXISTS', field: 'externalId' });
    const unknown = await app.inject({ method: 'POST', url: '/devices', headers: asPrincipal(LUBEI), payload: { vendorId, externalId: 'x', kind: 'SOS_BUTTON', model: 'X', elderId: 'nobody' } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'MONITORING.ELDER_UNKNOWN', field: 'elderId' });
    const both = await app.inject({ method: 'POST', url: '/devices', headers: asPrincipal(LUBEI), payload: { vendorId, externalId: 'y', kind: 'SOS_BUTTON', model: 'X' } });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'elderId' });
  });

  it('ingests per vendor: a wrong key is refused, unknown devices are rejected and counted, bad readings named', async () => {
    expect((await ingest([{ externalId: 'watch-1', kind: 'HEARTBEAT', at: Date.now() }], `yyv.${vendorId}.wrong`)).statusCode).toBe(401);
    const res = await ingest([
      { externalId: 'watch-1', kind: 'HEARTBEAT', at: Date.now(), battery: 78 },
      { externalId: 'not-ours', kind: 'HEARTBEAT', at: Date.now() },
      { externalId: 'watch-1', kind: 'VITALS', at: Date.now(), vitals: { hr: 900 } },
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 1,
      rejected: [
        { index: 1, code: 'MONITORING.DEVICE_UNKNOWN', field: 'externalId' },
        { index: 2, code: 'MONITORING.READING_INVALID', field: 'vitals.hr' },
      ],
    });
    expect((await ingest([])).json()).toMatchObject({ code: 'MONITORING.BATCH_SIZE', field: 'readings' });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`yiyang_telemetry_readings_total\\{vendor="${vendorId}",outcome="unknown_device"[^}]*\\} 1`));
  });

  it('hands an SOS to dispatch exactly once, though the vendor re-sends and Kafka redelivers', async () => {
    sosAt = Date.now() - 2_000;
    const reading = { externalId: 'sos-1', kind: 'SOS', at: sosAt, battery: 60 };
    expect((await ingest([reading])).json()).toMatchObject({ accepted: 1 });
    expect((await ingest([reading])).json()).toMatchObject({ accepted: 1 }); // the vendor's retry
    // A redelivery: the very same record twice more.
    const envelope = newEnvelope('monitoring', TelemetryReadings, {
      key: devices['sos-1'],
      payload: { deviceId: devices['sos-1'], vendorId, receivedAt: Date.now(), readings: [{ kind: 'SOS', at: sosAt }] },
    });
    await app.get(EventPublisher).publish([envelope, envelope], () => MonitoringTopics.telemetry.name);

    const raised = await waitFor(() => ofDevice(sink, devices['sos-1'], 'monitoring.alert.raised')[0], 'AlertRaised');
    expect(raised).toMatchObject({ kind: 'SOS', severity: 'CRITICAL', emergency: true, elderId: elder1, notify: 'RESPONDER', location: { lat: 39.641, lng: 118.171 } });
    expect(raised['evidence']).toEqual([expect.objectContaining({ kind: 'SOS', at: new Date(sosAt).toISOString() })]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ofDevice(sink, devices['sos-1'], 'monitoring.alert.raised')).toHaveLength(1);
  });

  it('raises VITALS for K out-of-range readings in a row by measurement time, with each elder’s own thresholds', async () => {
    const put = await app.inject({ method: 'PUT', url: `/alert-thresholds/${elder2}`, headers: asPrincipal(LUBEI), payload: { hrMax: 100 } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ thresholds: { hrMax: 100, hrMin: 45, consecutive: 3 }, custom: ['hrMax'] });
    const bad = await app.inject({ method: 'PUT', url: `/alert-thresholds/${elder2}`, headers: asPrincipal(LUBEI), payload: { hrMin: 130 } });
    expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT' });

    const t = Date.now() - 60_000;
    // Out of order and one duplicate: elder 2's limit is 100, elder 1 keeps the default 120.
    for (const at of [t + 20_000, t, t, t + 10_000]) {
      await ingest([
        { externalId: 'watch-2', kind: 'VITALS', at, vitals: { hr: 110, spo2: 97 } },
        { externalId: 'watch-1', kind: 'VITALS', at, vitals: { hr: 110, spo2: 97 } },
      ]);
    }
    const raised = await waitFor(() => ofDevice(sink, devices['watch-2'], 'monitoring.alert.raised')[0], 'VITALS alert');
    expect(raised).toMatchObject({ kind: 'VITALS', severity: 'HIGH', elderId: elder2, emergency: false });
    expect((raised['evidence'] as { at: string }[]).map((e) => e.at)).toEqual([t, t + 10_000, t + 20_000].map((x) => new Date(x).toISOString()));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ofDevice(sink, devices['watch-2'], 'monitoring.alert.raised')).toHaveLength(1);
    expect(ofDevice(sink, devices['watch-1'], 'monitoring.alert.raised')).toHaveLength(0);
  });

  it('alerts a facility’s duty staff to smoke, and escalates to emergency services when nobody acknowledges', async () => {
    await ingest([{ externalId: 'smoke-1', kind: 'SMOKE', at: Date.now(), level: 12 }]);
    const raised = await waitFor(() => ofDevice(sink, devices['smoke-1'], 'monitoring.alert.raised')[0], 'smoke alert');
    expect(raised).toMatchObject({ kind: 'SMOKE', facilityId: facility, notify: 'FACILITY_DUTY', emergency: false });
    expect(raised['elderId']).toBeUndefined();

    const duty: Principal = { userId: 'duty', role: 'provider_operator', providerId: provider };
    const list = await app.inject({ method: 'GET', url: '/alerts?status=OPEN', headers: asPrincipal(duty) });
    expect(list.json().items.map((a: { alertId: string }) => a.alertId)).toEqual([raised.alertId]);
    const stranger: Principal = { userId: 'x', role: 'provider_operator', providerId: 'another' };
    expect((await app.inject({ method: 'GET', url: `/alerts/${raised.alertId}`, headers: asPrincipal(stranger) })).statusCode).toBe(404);

    const escalated = await waitFor(() => ofDevice(sink, devices['smoke-1'], 'monitoring.alert.escalated')[0], 'escalation', 20_000);
    expect(escalated).toMatchObject({ alertId: raised.alertId, level: 1, escalatedTo: 'EMERGENCY_SERVICES' });
    expect(escalated['nextDeadline']).toBeUndefined();
    const view = (await app.inject({ method: 'GET', url: `/alerts/${raised.alertId}`, headers: asPrincipal(LUBEI) })).json();
    expect(view).toMatchObject({ status: 'RAISED', escalationLevel: 1, notified: [{ target: 'FACILITY_DUTY' }, { target: 'EMERGENCY_SERVICES' }] });
  });

  it('walks an alert through acknowledged → false alarm, once', async () => {
    const alertId = ofDevice(sink, devices['sos-1'], 'monitoring.alert.raised')[0].alertId;
    const ack = await app.inject({ method: 'POST', url: `/alerts/${alertId}/acknowledge`, headers: asPrincipal(LUBEI), payload: { note: '已电话联系' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ status: 'ACKNOWLEDGED', acknowledgedBy: LUBEI.userId });
    expect((await app.inject({ method: 'POST', url: `/alerts/${alertId}/acknowledge`, headers: asPrincipal(LUBEI), payload: {} })).statusCode).toBe(409);
    const missing = await app.inject({ method: 'POST', url: `/alerts/${alertId}/resolve`, headers: asPrincipal(LUBEI), payload: { outcome: 'FALSE_ALARM' } });
    expect(missing.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'reason' });
    const resolved = await app.inject({ method: 'POST', url: `/alerts/${alertId}/resolve`, headers: asPrincipal(LUBEI), payload: { outcome: 'FALSE_ALARM', reason: '老人误按' } });
    expect(resolved.json()).toMatchObject({ status: 'FALSE_ALARM', resolution: '老人误按' });

    const acked = await waitFor(() => sink.records.filter((r) => r.type === 'monitoring.alert.acknowledged').map(payloadOf).find((p) => p.alertId === alertId), 'AlertAcknowledged');
    expect(acked['responseSeconds']).toBeGreaterThanOrEqual(0);
    const closed = await waitFor(() => sink.records.filter((r) => r.type === 'monitoring.alert.resolved').map(payloadOf).find((p) => p.alertId === alertId), 'AlertResolved');
    expect(closed).toMatchObject({ outcome: 'FALSE_ALARM', reason: '老人误按', resolvedBy: { userId: LUBEI.userId } });
  });

  it('raises DEVICE_SILENT after 3× the heartbeat interval and resolves it when the device speaks again', async () => {
    const raised = await waitFor(() => ofDevice(sink, devices['quiet-door'], 'monitoring.alert.raised')[0], 'DEVICE_SILENT', 45_000);
    expect(raised).toMatchObject({ kind: 'DEVICE_SILENT', severity: 'MEDIUM', elderId: elder2 });
    await ingest([{ externalId: 'quiet-door', kind: 'HEARTBEAT', at: Date.now() }]);
    const resolved = await waitFor(() => ofDevice(sink, devices['quiet-door'], 'monitoring.alert.resolved')[0], 'auto-resolution');
    expect(resolved).toMatchObject({ alertId: raised.alertId, outcome: 'RESOLVED', resolvedBy: null });
  });

  it('survives a restart in the middle: an open vitals run is not lost, a closed SOS is not raised again', async () => {
    const t = Date.now() - 30_000;
    await ingest([{ externalId: 'watch-3', kind: 'VITALS', at: t, vitals: { spo2: 85 } }]);
    await ingest([{ externalId: 'watch-3', kind: 'VITALS', at: t + 5_000, vitals: { spo2: 84 } }]);
    const states = app.get<Connection>(getConnectionToken()).collection('rule_device_state');
    await waitFor(async () => ((await states.findOne({ _id: devices['watch-3'] as never }))?.['vitals'] as unknown[] | undefined)?.length === 2, 'the run stored');

    await app.close();
    await boot(); // same database, same consumer groups

    // The old SOS again (a replay after the restart): its alert was closed as a false alarm.
    await ingest([{ externalId: 'sos-1', kind: 'SOS', at: sosAt }]);
    await ingest([{ externalId: 'watch-3', kind: 'VITALS', at: t + 10_000, vitals: { spo2: 83 } }]);
    const raised = await waitFor(() => ofDevice(sink, devices['watch-3'], 'monitoring.alert.raised')[0], 'VITALS after restart');
    expect((raised['evidence'] as unknown[]).length).toBe(3);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ofDevice(sink, devices['sos-1'], 'monitoring.alert.raised')).toHaveLength(1);
  });
});
