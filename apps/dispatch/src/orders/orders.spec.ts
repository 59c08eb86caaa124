import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DispatchTopics } from '@yiyang/contracts';
import { h3Cell } from '@yiyang/geo';
import { collect, testKafka, uniqueSuffix, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { Scheduler } from '../scheduler/scheduler.service';
import { bootDispatch, caregiverSnapshot, elderSnapshot, HOME, RegistryFeed, seedCaregiver, seedElder, seedNetwork, testDistrict } from '../testing/test-support';

/**
 * Orders end to end: registry events in (real Kafka), HTTP API, dispatch events out.
 */
// The shared local database can be slow when other work runs; generous limits, never a wall-clock assertion.
jest.setTimeout(120_000);

describe('orders and matching (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let feed: RegistryFeed;
  let sink: { records: CollectedRecord[]; stop(): Promise<void> };
  const d = testDistrict();
  let providerId: string;

  const call = (p: Principal, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { ...asPrincipal(p), ...headers }, payload });
  const eventsOf = (orderId: string) => sink.records.filter((r) => r.key === orderId).map((r) => JSON.parse(r.value));
  const typesOf = (orderId: string) => eventsOf(orderId).map((e) => e.type);

  beforeAll(async () => {
    app = await bootDispatch(`test-dispatch-orders-${uniqueSuffix()}`, { DISPATCH_REGION_SCOPE: d.county, DISPATCH_OFFER_TIMEOUT_SECONDS: '30', DISPATCH_SCHEDULER_POLL_MS: '200' });
    feed = await RegistryFeed.connect();
    sink = await collect(testKafka(), [DispatchTopics.orders.name]);
    providerId = await seedNetwork(app, feed, [d.community]);
  }, 180_000);
  afterAll(async () => {
    await sink?.stop();
    await feed?.close();
    await app?.close();
  });

  it('a guardian orders for their elder: the nearest eligible caregiver is offered it, accepts, and every step is an event', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    const near = await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: HOME.lat + 0.002, lng: HOME.lng } }));
    // Farther, and one without the skill, and one whose certificate expired: never chosen first.
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: HOME.lat + 0.02, lng: HOME.lng } }));
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { skills: ['MEAL_DELIVERY'], homeBase: HOME }));
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { certifications: [{ name: 'x', number: '1', expiresOn: '2020-01-01' }], homeBase: HOME }));
    const guardian: Principal = { userId: 'u-guardian', role: 'guardian', elderIds: [elder.elderId] };

    const key = `tap-${uniqueSuffix()}`;
    const placed = await call(guardian, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'BATHING_ASSIST', notes: '下午洗澡' }, { 'idempotency-key': key });
    expect(placed.statusCode).toBe(201);
    const order = placed.json();
    expect(order).toMatchObject({ state: 'ASSIGNED', caregiverId: near.caregiverId, providerId, source: 'GUARDIAN', unit: 'PER_VISIT', bookedMinutes: 60 });

    // A double tap is the same order.
    const again = await call(guardian, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'BATHING_ASSIST', notes: '下午洗澡' }, { 'idempotency-key': key });
    expect(again.statusCode).toBe(200);
    expect(again.json().orderId).toBe(order.orderId);

    const caregiver: Principal = { userId: 'u-cg', role: 'caregiver', caregiverId: near.caregiverId };
    const offers = await call(caregiver, 'GET', '/offers?mine=1');
    expect(offers.json().items.map((o: { orderId: string }) => o.orderId)).toContain(order.orderId);
    // My day: the offer waits for an answer, with whom, where and what.
    const before = (await call(caregiver, 'GET', '/my-day')).json();
    expect(before.offers).toEqual([
      expect.objectContaining({ orderId: order.orderId, elder: expect.objectContaining({ name: '张桂兰', address: '文北里 3 号' }), item: expect.objectContaining({ code: 'BATHING_ASSIST' }), next: expect.objectContaining({ action: 'ACCEPT', path: `/offers/${order.orderId}/accept` }) }),
    ]);
    expect(before.route).toEqual([]);
    const accepted = await call(caregiver, 'POST', `/offers/${order.orderId}/accept`);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().state).toBe('ACCEPTED');
    // …and once accepted it is a stop on today's route, with what to do next.
    const after = (await call(caregiver, 'GET', '/my-day')).json();
    expect(after).toMatchObject({ offers: [], summary: { stops: 1, offers: 0 } });
    expect(after.route[0]).toMatchObject({ seq: 1, orderId: order.orderId, state: 'ACCEPTED', elder: { name: '张桂兰' }, notes: '下午洗澡', next: { action: 'SET_OFF', path: `/orders/${order.orderId}/en-route` } });
    expect(after.route[0].legMeters).toBeGreaterThan(150);
    expect((await call(guardian, 'GET', '/my-day')).statusCode).toBe(403);

    // Illegal: rating before completion names the current state.
    const early = await call(guardian, 'POST', `/orders/${order.orderId}/rating`, { stars: 5 });
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'DISPATCH.ILLEGAL_TRANSITION', details: { currentState: 'ACCEPTED' } });

    await waitFor(() => typesOf(order.orderId).length >= 3, 'three order events');
    expect(typesOf(order.orderId)).toEqual(['dispatch.order.placed', 'dispatch.order.assigned', 'dispatch.order.state-changed']);
    const assigned = eventsOf(order.orderId)[1];
    expect(assigned.payload).toMatchObject({ caregiverId: near.caregiverId, attempt: 1, rank: 1 });
    expect(assigned.payload.distanceMeters).toBeLessThan(300);
  });

  it('declines and lapsed offers go to the next candidate; with nobody left the operator sees an escalation and assigns by hand', async () => {
    const home = { lat: HOME.lat + 0.05, lng: HOME.lng + 0.05 };
    const elder = await seedElder(app, feed, elderSnapshot(d.community, { home, homeCell: h3Cell(home) }));
    const first = await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: home.lat + 0.001, lng: home.lng } }));
    const second = await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: home.lat + 0.006, lng: home.lng } }));
    const operator: Principal = { userId: 'u-op', role: 'provider_operator', providerId };

    const order = (await call(operator, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'HOME_CLEANING', quantity: 2 })).json();
    expect(order).toMatchObject({ state: 'ASSIGNED', caregiverId: first.caregiverId, source: 'OPERATOR', bookedMinutes: 120 });

    const notMine = await call({ userId: 'x', role: 'caregiver', caregiverId: second.caregiverId }, 'POST', `/offers/${order.orderId}/decline`, { reason: '太远了' });
    expect(notMine.statusCode).toBe(404); // not theirs: they learn nothing about it
    const declined = await call({ userId: 'u1', role: 'caregiver', caregiverId: first.caregiverId }, 'POST', `/offers/${order.orderId}/decline`, { reason: '身体不适' });
    expect(declined.json()).toMatchObject({ state: 'ASSIGNED', caregiverId: second.caregiverId, attempt: 2 });

    // The second offer lapses (the scheduler runs as if 60 s had passed): nobody left ⇒ escalated, visibly.
    const scheduler = app.get(Scheduler);
    await waitFor(async () => {
      await scheduler.tick(new Date(Date.now() + 60_000));
      return (await call(operator, 'GET', `/orders/${order.orderId}`)).json().state === 'ESCALATED';
    }, 'the order to escalate after the offer lapsed', 20_000);
    const escalated = (await call(operator, 'GET', '/orders?escalated=true&pageSize=200')).json();
    expect(escalated.items.find((o: { orderId: string }) => o.orderId === order.orderId)).toMatchObject({ escalation: { reason: 'ALL_OFFERS_DECLINED' } });

    const byHand = await call(operator, 'POST', `/orders/${order.orderId}/assign`, { caregiverId: first.caregiverId, reason: '已电话确认' });
    expect(byHand.json()).toMatchObject({ state: 'ASSIGNED', caregiverId: first.caregiverId });
    await waitFor(() => typesOf(order.orderId).includes('dispatch.order.escalated') && typesOf(order.orderId).filter((t) => t === 'dispatch.order.assigned').length === 3, 'escalation and three offers on the topic');
  });

  it('refuses what it must: other families, bad input, unknown items; no caregiver at all escalates at once', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.otherCommunity, { home: { lat: 40.5, lng: 119.5 }, homeCell: h3Cell({ lat: 40.5, lng: 119.5 }) }));
    const stranger: Principal = { userId: 'u-x', role: 'guardian', elderIds: ['someone-else'] };
    expect((await call(stranger, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'MEAL_DELIVERY' })).statusCode).toBe(404);

    const self: Principal = { userId: 'u-e', role: 'elder', elderIds: [elder.elderId] };
    const bad = await call(self, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'MEAL_DELIVERY', window: { asap: false, from: '2030-01-01T10:00:00+08:00', to: '2030-01-01T09:00:00+08:00' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'window.to', messageZh: expect.any(String) });
    const unknown = await call(self, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'NO_SUCH_ITEM' });
    expect(unknown.json()).toMatchObject({ code: 'DISPATCH.ITEM_UNKNOWN', field: 'itemCode' });

    // The other community has no contracted provider.
    const lonely = await call(self, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'MEAL_DELIVERY' });
    expect(lonely.statusCode).toBe(201);
    expect(lonely.json()).toMatchObject({ state: 'ESCALATED', escalation: { reason: 'NO_CONTRACTED_PROVIDER' } });
    const cancelled = await call(self, 'POST', `/orders/${lonely.json().orderId}/cancel`, { reason: '不需要了' });
    expect(cancelled.json().state).toBe('CANCELLED');
  });
});
