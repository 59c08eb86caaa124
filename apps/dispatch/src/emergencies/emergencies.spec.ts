import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AlertAcknowledged, AlertRaised, AlertResolved, DispatchTopics, MonitoringTopics } from '@yiyang/contracts';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { collect, testKafka, uniqueSuffix, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { bootDispatch, caregiverSnapshot, elderSnapshot, HOME, RegistryFeed, seedCaregiver, seedElder, seedNetwork, testDistrict } from '../testing/test-support';

/** SOS end to end, including a restart of the service in the middle of the escalation ladder. */
// The shared local database can be slow when other work runs; generous limits, never a wall-clock assertion.
jest.setTimeout(120_000);

describe('emergencies (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let feed: RegistryFeed;
  let sink: { records: CollectedRecord[]; stop(): Promise<void> };
  const d = testDistrict();
  const groupPrefix = `test-dispatch-sos-${uniqueSuffix()}`;
  const env = { DISPATCH_REGION_SCOPE: d.county, DISPATCH_EMERGENCY_ACK_SECONDS: '2', DISPATCH_SCHEDULER_POLL_MS: '200' };
  const admin: Principal = { userId: 'street', role: 'civil_affairs_admin', regionCode: d.street };
  const dutyWorkerId = `dw-${uniqueSuffix()}`;

  const call = (p: Principal, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => app.inject({ method, url, headers: asPrincipal(p), payload });
  const levelOf = async (id: string) => (await call(admin, 'GET', `/emergencies/${id}`)).json();

  beforeAll(async () => {
    app = await bootDispatch(groupPrefix, env);
    feed = await RegistryFeed.connect();
    sink = await collect(testKafka(), [DispatchTopics.emergencies.name]);
    const providerId = await seedNetwork(app, feed, [d.community]);
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: HOME.lat + 0.001, lng: HOME.lng } }));
    expect((await call(admin, 'PUT', `/duty-workers/${dutyWorkerId}`, { regionCode: d.community, name: '社区值班 刘芳', phone: '0315-7654321' })).statusCode).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await sink?.stop();
    await feed?.close();
    await app?.close();
  });

  it('notifies responder, guardians and duty worker at once, climbs the ladder across a restart, stops when acknowledged', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    const self: Principal = { userId: 'u-elder', role: 'elder', elderIds: [elder.elderId] };
    const raised = await call(self, 'POST', '/emergencies', { elderId: elder.elderId });
    expect(raised.statusCode).toBe(201);
    const e = raised.json();
    expect(e).toMatchObject({ state: 'OPEN', level: 'RESPONDER', kind: 'SOS', source: 'API' });
    expect(e.notified.map((n: { kind: string }) => n.kind).sort()).toEqual(['CAREGIVER', 'DUTY_WORKER', 'GUARDIAN']);

    await waitFor(async () => (await levelOf(e.emergencyId)).level === 'GUARDIAN', 'first escalation', 15_000);

    // Stop the service mid-ladder; the next deadline passes while nobody runs.
    await app.close();
    await new Promise((r) => setTimeout(r, 2500));
    app = await bootDispatch(groupPrefix, env);

    await waitFor(async () => (await levelOf(e.emergencyId)).level === 'EMERGENCY_SERVICES', 'the ladder to reach emergency services after the restart', 30_000);
    const top = await levelOf(e.emergencyId);
    expect(top.notified.map((n: { kind: string }) => n.kind)).toContain('EMERGENCY_SERVICES');
    const escalations = () => sink.records.filter((r) => r.key === e.emergencyId && r.type === 'dispatch.emergency.escalated').map((r) => JSON.parse(r.value).payload.to);
    await waitFor(() => escalations().includes('EMERGENCY_SERVICES'), 'escalation events');
    expect(escalations().slice(0, 3)).toEqual(['GUARDIAN', 'COMMUNITY_WORKER', 'EMERGENCY_SERVICES']);

    const guardian: Principal = { userId: 'u-son', role: 'guardian', elderIds: [elder.elderId] };
    const acked = await call(guardian, 'POST', `/emergencies/${e.emergencyId}/acknowledge`);
    expect(acked.json()).toMatchObject({ state: 'ACKNOWLEDGED', acknowledgedBy: { userId: 'u-son', kind: 'GUARDIAN' }, ackDeadline: null });
    const stepAtAck = acked.json().step;
    await new Promise((r) => setTimeout(r, 3000));
    expect((await levelOf(e.emergencyId)).step).toBe(stepAtAck);

    const noReason = await call(guardian, 'POST', `/emergencies/${e.emergencyId}/resolve`, { outcome: 'FALSE_ALARM' });
    expect(noReason.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'reason' });
    const closed = await call(guardian, 'POST', `/emergencies/${e.emergencyId}/resolve`, { outcome: 'FALSE_ALARM', reason: '老人误按了按钮' });
    expect(closed.json()).toMatchObject({ state: 'FALSE_ALARM', closeReason: '老人误按了按钮' });
    await waitFor(() => sink.records.some((r) => r.key === e.emergencyId && r.type === 'dispatch.emergency.resolved'), 'resolved event');
  }, 180_000);

  it("opens an emergency from monitoring's SOS alert (once, however often it is delivered), not from a low battery", async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    const publisher = new EventPublisher(testKafka());
    const alert = (kind: 'SOS' | 'LOW_BATTERY') => ({
      alertId: `al-${uniqueSuffix()}`,
      kind,
      severity: 'CRITICAL' as const,
      deviceId: `dev-${uniqueSuffix()}`,
      deviceKind: 'SOS_BUTTON' as never,
      elderId: elder.elderId,
      regionCode: d.community,
      regionPath: elder.regionPath,
      location: HOME,
      raisedAt: new Date().toISOString(),
      reason: 'button pressed',
      evidence: [],
      ackDeadline: new Date(Date.now() + 60_000).toISOString(),
      notify: 'RESPONDER' as const,
      emergency: kind === 'SOS',
    });
    const sos = alert('SOS');
    const low = alert('LOW_BATTERY');
    const envelope = newEnvelope('monitoring', AlertRaised, { key: sos.alertId, payload: sos });
    await publisher.publish([envelope, envelope as never, newEnvelope('monitoring', AlertRaised, { key: low.alertId, payload: low })], () => MonitoringTopics.alerts.name);
    await publisher.disconnect();

    const opened = await waitFor(async () => {
      const r = await call(admin, 'GET', `/emergencies/em-${sos.alertId}`);
      return r.statusCode === 200 ? r.json() : null;
    }, 'an emergency from the SOS alert');
    expect(opened).toMatchObject({ kind: 'SOS', source: 'DEVICE', alertId: sos.alertId, elderId: elder.elderId, state: 'OPEN' });
    await waitFor(() => sink.records.some((r) => r.key === `em-${sos.alertId}`), 'raised event');
    await new Promise((r) => setTimeout(r, 1000));
    // Only this app knows the duty worker: any other dispatch running on the shared broker (npm start)
    // may open its own copy in its own database, which is not this service's duplicate.
    const ours = sink.records.filter((r) => r.key === `em-${sos.alertId}` && r.type === 'dispatch.emergency.raised' && r.value.includes(dutyWorkerId));
    expect(ours).toHaveLength(1);
    expect((await call(admin, 'GET', `/emergencies/em-${low.alertId}`)).statusCode).toBe(404);
  });
  it("follows monitoring's acknowledgement and resolution of the alert (the ladder stops), and an echo of its own acknowledgement does not loop", async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    const publisher = new EventPublisher(testKafka());
    const identity = (alertId: string) => ({ alertId, kind: 'SOS' as const, severity: 'CRITICAL' as const, deviceId: `dev-${alertId}`, deviceKind: 'SOS_BUTTON' as const, elderId: elder.elderId, regionCode: d.community, regionPath: elder.regionPath });
    const raisedAt = new Date().toISOString();
    const raise = (alertId: string) =>
      newEnvelope('monitoring', AlertRaised, { key: alertId, payload: { ...identity(alertId), location: HOME, raisedAt, reason: 'button pressed', evidence: [], ackDeadline: new Date(Date.now() + 60_000).toISOString(), notify: 'RESPONDER' as const, emergency: true } });
    const ack = (alertId: string, userId: string) =>
      newEnvelope('monitoring', AlertAcknowledged, { key: alertId, payload: { ...identity(alertId), raisedAt, acknowledgedAt: new Date().toISOString(), acknowledgedBy: { userId, role: 'civil_affairs_admin' }, responseSeconds: 5 } });
    const send = (envelopes: object[]) => publisher.publish(envelopes as never, () => MonitoringTopics.alerts.name);
    const state = async (id: string) => {
      const r = await call(admin, 'GET', `/emergencies/${id}`);
      return r.statusCode === 200 ? r.json() : null;
    };
    const ofType = (key: string, type: string) => sink.records.filter((r) => r.key === key && r.type === type && r.value.includes(dutyWorkerId));

    // 1. Acknowledged at monitoring's alert desk → acknowledged here, twice delivered → once.
    const a1 = `al-${uniqueSuffix()}`;
    await send([raise(a1)]);
    await waitFor(async () => (await state(`em-${a1}`))?.state === 'OPEN', 'the emergency from the alert');
    await send([ack(a1, 'desk-1'), ack(a1, 'desk-1')]);
    const acked = await waitFor(async () => {
      const e = await state(`em-${a1}`);
      return e?.state === 'ACKNOWLEDGED' ? e : null;
    }, 'acknowledged in step with monitoring');
    expect(acked).toMatchObject({ acknowledgedBy: { userId: 'desk-1', kind: 'MONITORING' }, ackDeadline: null });
    await waitFor(() => ofType(`em-${a1}`, 'dispatch.emergency.acknowledged').length > 0, 'acknowledged event');
    // Ack deadlines are 2 s here: were the ladder still running it would have climbed by now.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await state(`em-${a1}`)).step).toBe(acked.step);
    expect(ofType(`em-${a1}`, 'dispatch.emergency.acknowledged')).toHaveLength(1);

    // 2. Resolved in monitoring → closed here with the outcome and reason.
    await send([newEnvelope('monitoring', AlertResolved, { key: a1, payload: { ...identity(a1), raisedAt, resolvedAt: new Date().toISOString(), outcome: 'FALSE_ALARM' as const, reason: '误触', resolvedBy: { userId: 'desk-1', role: 'civil_affairs_admin' } } })]);
    await waitFor(async () => (await state(`em-${a1}`))?.state === 'FALSE_ALARM', 'closed in step with monitoring');
    expect((await state(`em-${a1}`)).closeReason).toContain('误触');
    await waitFor(() => ofType(`em-${a1}`, 'dispatch.emergency.resolved').length === 1, 'resolved event');

    // 3. Acknowledged here first; monitoring mirroring it back (its own AlertAcknowledged) changes nothing.
    const a2 = `al-${uniqueSuffix()}`;
    await send([raise(a2)]);
    await waitFor(async () => (await state(`em-${a2}`))?.state === 'OPEN', 'the second emergency');
    const guardian: Principal = { userId: 'u-daughter', role: 'guardian', elderIds: [elder.elderId] };
    expect((await call(guardian, 'POST', `/emergencies/em-${a2}/acknowledge`)).json()).toMatchObject({ state: 'ACKNOWLEDGED', acknowledgedBy: { userId: 'u-daughter' } });
    await send([ack(a2, 'system:dispatch'), ack(a2, 'desk-2')]);
    // A marker alert on the same partition (keyed like a2): once it is handled, so are the two acknowledgements.
    const marker = `al-${uniqueSuffix()}`;
    await send([{ ...raise(marker), key: a2 }]);
    await waitFor(async () => (await state(`em-${marker}`)) !== null, 'the marker alert');
    expect(await state(`em-${a2}`)).toMatchObject({ state: 'ACKNOWLEDGED', acknowledgedBy: { userId: 'u-daughter', kind: 'GUARDIAN' } });
    await waitFor(() => ofType(`em-${a2}`, 'dispatch.emergency.acknowledged').length > 0, 'acknowledged event');
    expect(ofType(`em-${a2}`, 'dispatch.emergency.acknowledged')).toHaveLength(1);
    await publisher.disconnect();
  });
});
