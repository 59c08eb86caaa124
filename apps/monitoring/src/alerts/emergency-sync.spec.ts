import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DispatchTopics, EmergencyAcknowledged, EmergencyResolved, MonitoringTopics, type EmergencySnapshot, type Envelope } from '@yiyang/contracts';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { collect, testKafka, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import { bootMonitoring, dropAndClose, elderSnapshot, LUBEI, publishElder, startGroupsAtEnd, uid } from '../test-support';

jest.setTimeout(90_000);

type Sink = Awaited<ReturnType<typeof collect>>;
const payloadOf = (r: CollectedRecord) => JSON.parse(r.value).payload as Record<string, unknown> & { deviceId: string; alertId: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Dispatch opens an emergency from an SOS/FALL alert and may acknowledge and close it on its side
 * (a caregiver on the phone, at the door). The alert follows — once, even when dispatch's event is
 * delivered twice — and the two directions settle: no echo goes back and forth.
 */
describe('alerts follow the emergency dispatch opened from them (real Kafka + database)', () => {
  const prefix = uid('test-emergency-sync');
  let app: NestFastifyApplication;
  let sink: Sink;
  let apiKey: string;
  const vendorId = uid('vendor').toLowerCase();
  const elderId = uid('elder');
  const elder = elderSnapshot(elderId);
  const devices: Record<string, string> = {};

  const ingest = (readings: object[]) => app.inject({ method: 'POST', url: '/telemetry', headers: { 'x-api-key': apiKey }, payload: { readings } });
  const events = (type: string, alertId: string) => sink.records.filter((r) => r.type === type).map(payloadOf).filter((p) => p.alertId === alertId);
  const alert = async (alertId: string) => (await app.inject({ method: 'GET', url: `/alerts/${alertId}`, headers: asPrincipal(LUBEI) })).json();

  /** What dispatch's emergency looks like once it opened it from the alert. */
  const emergency = (alertId: string, state: EmergencySnapshot['state'], acknowledgedBy: EmergencySnapshot['acknowledgedBy']): EmergencySnapshot => ({
    emergencyId: `em-${alertId}`,
    elderId,
    facilityId: null,
    regionCode: elder.regionCode,
    regionPath: elder.regionPath,
    kind: 'SOS',
    source: 'DEVICE',
    alertId,
    location: null,
    state,
    level: 'RESPONDER',
    ackDeadline: null,
    notified: [],
    raisedAt: new Date(Date.now() - 5_000).toISOString(),
    acknowledgedAt: acknowledgedBy ? new Date().toISOString() : null,
    acknowledgedBy,
    closedAt: state === 'RESOLVED' || state === 'FALSE_ALARM' ? new Date().toISOString() : null,
    closeReason: null,
    version: 2,
  });
  /** Publishes as dispatch would; `times` > 1 is a redelivery of the very same record. */
  const asDispatch = async (envelope: Envelope, times = 1) => {
    await app.get(EventPublisher).publish(Array.from({ length: times }, () => envelope), () => DispatchTopics.emergencies.name);
  };
  const raiseSos = async (externalId: string) => {
    const at = Date.now() - 1_000;
    expect((await ingest([{ externalId, kind: 'SOS', at }])).json()).toMatchObject({ accepted: 1 });
    return waitFor(() => sink.records.filter((r) => r.type === 'monitoring.alert.raised').map(payloadOf).find((p) => p.deviceId === devices[externalId]), `SOS alert of ${externalId}`);
  };

  beforeAll(async () => {
    await startGroupsAtEnd(prefix);
    app = await bootMonitoring(prefix);
    sink = await collect(testKafka(), [MonitoringTopics.alerts.name]);
    await publishElder(app, elder);
    await waitFor(() => app.get(RegistryFacts).elder(elderId), 'registry facts');
    const vendor = await app.inject({ method: 'POST', url: '/vendors', headers: asPrincipal(LUBEI), payload: { vendorId, name: '颐康科技' } });
    apiKey = vendor.json().apiKey;
    for (const externalId of ['sos-a', 'sos-b']) {
      const res = await app.inject({ method: 'POST', url: '/devices', headers: asPrincipal(LUBEI), payload: { vendorId, externalId, model: 'YY-1', kind: 'SOS_BUTTON', elderId } });
      expect(res.statusCode).toBe(201);
      devices[externalId] = res.json().deviceId;
    }
  });

  afterAll(async () => {
    await sink?.stop();
    await dropAndClose(app);
  });

  it('acknowledges and resolves the alert when dispatch acknowledges and closes its emergency, once despite redelivery', async () => {
    const { alertId } = await raiseSos('sos-a');

    const caregiver = { userId: 'cg-wang', role: 'caregiver', kind: 'CAREGIVER' };
    const acked = newEnvelope('dispatch', EmergencyAcknowledged, {
      key: `em-${alertId}`,
      payload: { emergency: emergency(alertId, 'ACKNOWLEDGED', caregiver), responseSeconds: 42, at: new Date().toISOString() },
    });
    await asDispatch(acked, 2);
    await waitFor(async () => (await alert(alertId)).status === 'ACKNOWLEDGED', 'alert acknowledged');
    const ackEvent = await waitFor(() => events('monitoring.alert.acknowledged', alertId)[0], 'AlertAcknowledged');
    expect(ackEvent).toMatchObject({ acknowledgedBy: { userId: 'cg-wang', role: 'caregiver' } });
    expect(await alert(alertId)).toMatchObject({ acknowledgedBy: 'cg-wang', ackDeadline: null });

    const resolved = newEnvelope('dispatch', EmergencyResolved, {
      key: `em-${alertId}`,
      payload: { emergency: emergency(alertId, 'RESOLVED', caregiver), outcome: 'RESOLVED', reason: '已送医', at: new Date().toISOString() },
    });
    await asDispatch(resolved, 2);
    const closed = await waitFor(() => events('monitoring.alert.resolved', alertId)[0], 'AlertResolved');
    // Closed by a person (dispatch's system user stands for them) — not "cleared by itself" (null).
    expect(closed).toMatchObject({ outcome: 'RESOLVED', resolvedBy: { userId: 'system:dispatch' } });
    expect(String(closed['reason'])).toContain('已送医');
    expect(await alert(alertId)).toMatchObject({ status: 'RESOLVED' });

    await sleep(1_500); // any second copy would have been relayed by now
    expect(events('monitoring.alert.acknowledged', alertId)).toHaveLength(1);
    expect(events('monitoring.alert.resolved', alertId)).toHaveLength(1);
  });

  it('settles with dispatch: its echo of an acknowledgement made here, and a late acknowledgement after closing, change nothing', async () => {
    const { alertId } = await raiseSos('sos-b');
    const ack = await app.inject({ method: 'POST', url: `/alerts/${alertId}/acknowledge`, headers: asPrincipal(LUBEI), payload: {} });
    expect(ack.statusCode).toBe(200);
    await waitFor(() => events('monitoring.alert.acknowledged', alertId)[0], 'AlertAcknowledged');

    // Dispatch followed our acknowledgement and published its own (acknowledged "by monitoring").
    const echo = { userId: LUBEI.userId, role: LUBEI.role, kind: 'MONITORING' };
    await asDispatch(newEnvelope('dispatch', EmergencyAcknowledged, { key: `em-${alertId}`, payload: { emergency: emergency(alertId, 'ACKNOWLEDGED', echo), responseSeconds: 3, at: new Date().toISOString() } }));
    const resolve = await app.inject({ method: 'POST', url: `/alerts/${alertId}/resolve`, headers: asPrincipal(LUBEI), payload: { outcome: 'FALSE_ALARM', reason: '老人误按' } });
    expect(resolve.statusCode).toBe(200);
    // …and its echo of our resolution.
    await asDispatch(newEnvelope('dispatch', EmergencyResolved, { key: `em-${alertId}`, payload: { emergency: emergency(alertId, 'FALSE_ALARM', echo), outcome: 'FALSE_ALARM', reason: '老人误按 (monitoring)', at: new Date().toISOString() } }));

    await waitFor(() => events('monitoring.alert.resolved', alertId)[0], 'AlertResolved');
    await sleep(2_000);
    expect(events('monitoring.alert.acknowledged', alertId)).toHaveLength(1);
    expect(events('monitoring.alert.resolved', alertId)).toEqual([expect.objectContaining({ outcome: 'FALSE_ALARM', resolvedBy: { userId: LUBEI.userId, role: LUBEI.role } })]);
    expect(await alert(alertId)).toMatchObject({ status: 'FALSE_ALARM', acknowledgedBy: LUBEI.userId, resolution: '老人误按' });
  });
});
