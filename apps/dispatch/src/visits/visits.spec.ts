import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DispatchTopics } from '@yiyang/contracts';
import { h3Cell } from '@yiyang/geo';
import { collect, testKafka, uniqueSuffix, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { Scheduler } from '../scheduler/scheduler.service';
import { bootDispatch, caregiverSnapshot, elderSnapshot, HOME, RegistryFeed, seedCaregiver, seedElder, seedNetwork, testDistrict } from '../testing/test-support';

/** EVV end to end: a real order, check-in/out at the door, verified or flagged, billing's events on the visits topic. */
// The shared local database can be slow when other work runs; generous limits, never a wall-clock assertion.
jest.setTimeout(120_000);

describe('visit verification (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let feed: RegistryFeed;
  let sink: { records: CollectedRecord[]; stop(): Promise<void> };
  const d = testDistrict();
  let providerId: string;

  const call = (p: Principal, method: 'GET' | 'POST', url: string, payload?: object) => app.inject({ method, url, headers: asPrincipal(p), payload });
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  const published = (key: string, type: string) =>
    waitFor(() => sink.records.map((r) => JSON.parse(r.value)).find((e) => e.key === key && e.type === type), `${type} for ${key}`);

  /** An elder, a caregiver next door, and an accepted order of `itemCode`. */
  let homes = 0;
  async function acceptedOrder(itemCode: string) {
    // Each scenario in its own street block (~2 km apart), so earlier scenarios' caregivers are not nearer.
    const home = { lat: HOME.lat + 0.02 * homes++, lng: HOME.lng };
    const elder = await seedElder(app, feed, elderSnapshot(d.community, { home, homeCell: h3Cell(home) }));
    const cg = await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: home.lat + 0.0005, lng: home.lng } }));
    const guardian: Principal = { userId: `u-${uniqueSuffix()}`, role: 'guardian', elderIds: [elder.elderId] };
    const caregiver: Principal = { userId: `u-${uniqueSuffix()}`, role: 'caregiver', caregiverId: cg.caregiverId };
    const order = (await call(guardian, 'POST', '/orders', { elderId: elder.elderId, itemCode })).json();
    expect(order.caregiverId).toBe(cg.caregiverId);
    expect((await call(caregiver, 'POST', `/offers/${order.orderId}/accept`)).statusCode).toBe(200);
    return { elder, order, guardian, caregiver, cg };
  }

  beforeAll(async () => {
    app = await bootDispatch(`test-dispatch-visits-${uniqueSuffix()}`, { DISPATCH_REGION_SCOPE: d.county, DISPATCH_GEOFENCE_METERS: '100' });
    feed = await RegistryFeed.connect();
    sink = await collect(testKafka(), [DispatchTopics.visits.name, DispatchTopics.orders.name]);
    providerId = await seedNetwork(app, feed, [d.community]);
  }, 180_000);
  afterAll(async () => {
    await sink?.stop();
    await feed?.close();
    await app?.close();
  });

  it('a visit at the door for the booked time is verified and billable; the order completes, is rated and complained about', async () => {
    const { elder, order, guardian, caregiver, cg } = await acceptedOrder('BATHING_ASSIST');
    expect((await call(caregiver, 'POST', `/orders/${order.orderId}/en-route`)).json().state).toBe('EN_ROUTE');

    const inRes = await call(caregiver, 'POST', '/visits/check-in', { orderId: order.orderId, location: { lat: HOME.lat + 0.0003, lng: HOME.lng }, accuracyMeters: 8, at: minutesAgo(62) });
    expect(inRes.statusCode).toBe(201);
    const visit = inRes.json();
    expect(visit).toMatchObject({ state: 'IN_PROGRESS', itemCode: 'BATHING_ASSIST', elderId: elder.elderId, caregiverId: cg.caregiverId, geofenceMeters: 100 });

    const out = await call(caregiver, 'POST', `/visits/${visit.visitId}/check-out`, { location: HOME, accuracyMeters: 5 });
    expect(out.json()).toMatchObject({ state: 'VERIFIED', flags: [], quantity: 1, bookedMinutes: 60 });
    expect(out.json().actualMinutes).toBeGreaterThanOrEqual(61);

    // What billing consumes: the six EVV elements plus the billing fields.
    const verified = await published(visit.visitId, 'dispatch.visit.verified');
    expect(verified.payload.visit).toMatchObject({
      visitId: visit.visitId,
      orderId: order.orderId,
      elderId: elder.elderId,
      providerId,
      caregiverId: cg.caregiverId,
      itemCode: 'BATHING_ASSIST',
      regionCode: d.community,
      serviceDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      quantity: 1,
      bookedMinutes: 60,
    });
    expect((await call(guardian, 'GET', `/orders/${order.orderId}`)).json().state).toBe('COMPLETED');
    await published(order.orderId, 'dispatch.order.completed');

    const rated = await call(guardian, 'POST', `/orders/${order.orderId}/rating`, { stars: 5, comment: '很细心' });
    expect(rated.json().state).toBe('RATED');
    expect((await published(order.orderId, 'dispatch.order.rated')).payload).toMatchObject({ stars: 5, providerId, caregiverId: cg.caregiverId });
    const badStars = await call(guardian, 'POST', `/orders/${order.orderId}/rating`, { stars: 9 });
    expect(badStars.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'stars' });

    const complaint = await call(guardian, 'POST', '/complaints', { orderId: order.orderId, category: 'LATENESS', text: '迟到了二十分钟' });
    expect(complaint.statusCode).toBe(201);
    expect((await published(order.orderId, 'dispatch.complaint.filed')).payload.complaint).toMatchObject({ category: 'LATENESS', status: 'OPEN', providerId });
    const operator: Principal = { userId: 'op', role: 'provider_operator', providerId };
    const resolved = await call(operator, 'POST', `/complaints/${complaint.json().complaintId}/resolve`, { status: 'RESOLVED', resolution: '已致歉并调整排班' });
    expect(resolved.json().status).toBe('RESOLVED');
  });

  it('a short visit checked in far from home is flagged, not billable, until the operator approves it with a reason', async () => {
    const { order, caregiver, elder } = await acceptedOrder('BATHING_ASSIST');
    const far = { lat: elder.home.lat + 0.005, lng: elder.home.lng }; // ~550 m
    const visit = (await call(caregiver, 'POST', '/visits/check-in', { orderId: order.orderId, location: far, at: minutesAgo(10) })).json();
    const out = (await call(caregiver, 'POST', `/visits/${visit.visitId}/check-out`, { location: elder.home })).json();
    expect(out.state).toBe('FLAGGED');
    expect(out.flags.sort()).toEqual(['OUTSIDE_GEOFENCE', 'TOO_SHORT']);
    const flagged = await published(visit.visitId, 'dispatch.visit.flagged');
    expect(flagged.payload.flags.sort()).toEqual(['OUTSIDE_GEOFENCE', 'TOO_SHORT']);

    const operator: Principal = { userId: 'op', role: 'provider_operator', providerId };
    const noReason = await call(operator, 'POST', `/visits/${visit.visitId}/approve`, {});
    expect(noReason.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'reason' });
    const otherOperator: Principal = { userId: 'op2', role: 'provider_operator', providerId: 'p-other' };
    expect((await call(otherOperator, 'POST', `/visits/${visit.visitId}/approve`, { reason: '老人确认已服务' })).statusCode).toBe(404);
    const approved = await call(operator, 'POST', `/visits/${visit.visitId}/approve`, { reason: '老人电话确认已服务，楼栋定位偏差' });
    expect(approved.json()).toMatchObject({ state: 'APPROVED', review: { outcome: 'APPROVED' } });
    expect((await published(visit.visitId, 'dispatch.visit.approved')).payload).toMatchObject({ reason: '老人电话确认已服务，楼栋定位偏差', visit: { orderId: order.orderId } });
    expect((await call(operator, 'GET', `/orders/${order.orderId}`)).json().state).toBe('COMPLETED');
    const twice = await call(operator, 'POST', `/visits/${visit.visitId}/approve`, { reason: 'again' });
    expect(twice.json()).toMatchObject({ code: 'DISPATCH.VISIT_NOT_FLAGGED', details: { currentState: 'APPROVED' } });
  });

  it('flags overlapping visits of one caregiver and a visit never checked out', async () => {
    const a = await acceptedOrder('BATHING_ASSIST');
    const guardian: Principal = { userId: 'g2', role: 'guardian', elderIds: [a.elder.elderId] };
    // The same caregiver takes a second order for the same elder.
    const second = (await call(guardian, 'POST', '/orders', { elderId: a.elder.elderId, itemCode: 'MEAL_DELIVERY' })).json();
    expect((await call(a.caregiver, 'POST', `/offers/${second.orderId}/accept`)).statusCode).toBe(200);

    // First visit started 50 min ago (60 booked) and is never checked out; the second starts inside it.
    const v1 = (await call(a.caregiver, 'POST', '/visits/check-in', { orderId: a.order.orderId, location: a.elder.home, at: minutesAgo(50) })).json();
    const v2 = (await call(a.caregiver, 'POST', '/visits/check-in', { orderId: second.orderId, location: a.elder.home, at: minutesAgo(30) })).json();
    const out2 = (await call(a.caregiver, 'POST', `/visits/${v2.visitId}/check-out`, { location: a.elder.home })).json();
    expect(out2.flags).toContain('OVERLAP');

    // A durable deadline is set for the booked end + 120 min grace (check-in 50 min ago + 60 booked + 120).
    const scheduler = app.get(Scheduler);
    const deadline = await scheduler.deadlines.findOne({ _id: `checkout:${v1.visitId}` });
    expect(deadline).toMatchObject({ kind: 'checkout', refId: v1.visitId });
    expect(Math.abs((deadline?.dueAt.getTime() ?? 0) - (Date.now() - 50 * 60_000 + 180 * 60_000))).toBeLessThan(120_000);
    // Time passes: the deadline falls due (moved, not a clock run ahead — a future clock would also work every
    // recurring job of the service on each pass, which is what made this test slow on a loaded machine).
    await scheduler.deadlines.updateOne({ _id: deadline?._id as string }, { $set: { dueAt: new Date(Date.now() - 1000) } });
    await waitFor(
      async () => {
        await scheduler.tick();
        return (await call(a.caregiver, 'GET', `/visits/${v1.visitId}`)).json().state === 'FLAGGED';
      },
      'missing check-out flag',
      150_000,
    );
    expect((await call(a.caregiver, 'GET', `/visits/${v1.visitId}`)).json()).toMatchObject({ flags: ['MISSING_CHECK_OUT'], endedAt: null });
    expect((await published(v1.visitId, 'dispatch.visit.flagged')).payload.flags).toEqual(['MISSING_CHECK_OUT']);

    const operator: Principal = { userId: 'op', role: 'provider_operator', providerId };
    const noEnd = await call(operator, 'POST', `/visits/${v1.visitId}/reject`, { reason: '未提供服务证明' });
    expect(noEnd.json().state).toBe('REJECTED');
    expect((await call(operator, 'GET', `/orders/${a.order.orderId}`)).json().state).toBe('CANCELLED');
  }, 240_000);
});
