import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DispatchTopics, PlaceOrderRequested, type PayloadOf } from '@yiyang/contracts';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { collect, testKafka, uniqueSuffix, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { bootDispatch, caregiverSnapshot, elderSnapshot, HOME, RegistryFeed, seedCaregiver, seedElder, seedNetwork, testDistrict } from '../testing/test-support';
import { OrderIntake, unpackEvents } from './order-intake.service';
import { OrdersService, orderIdFor } from './orders.service';

/** Orders placed through the order-requests topic (Kafka in), in bulk, assignment events out. */
// The shared local database can be slow when other work runs; generous limits, never a wall-clock assertion.
jest.setTimeout(120_000);

describe('order intake from Kafka (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let feed: RegistryFeed;
  let publisher: EventPublisher;
  let sink: { records: CollectedRecord[]; stop(): Promise<void> };
  const d = testDistrict();
  let providerId: string;

  const call = (p: Principal, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { ...asPrincipal(p), ...headers }, payload });
  const typesOf = (key: string) => sink.records.filter((r) => r.key === key).map((r) => r.type);
  const request = (payload: Omit<PayloadOf<typeof PlaceOrderRequested>, 'notes' | 'priority'> & { notes?: string }) =>
    newEnvelope('gateway', PlaceOrderRequested, { key: payload.requestId, payload: { notes: '', priority: 'NORMAL', ...payload } });
  const send = (envelopes: object[]) => publisher.publish(envelopes as never, () => DispatchTopics.orderRequests.name);

  beforeAll(async () => {
    app = await bootDispatch(`test-dispatch-intake-${uniqueSuffix()}`, { DISPATCH_REGION_SCOPE: d.county });
    feed = await RegistryFeed.connect();
    publisher = new EventPublisher(testKafka());
    sink = await collect(testKafka(), [DispatchTopics.orders.name]);
    providerId = await seedNetwork(app, feed, [d.community]);
  }, 180_000);
  afterAll(async () => {
    await sink?.stop();
    await publisher?.disconnect();
    await feed?.close();
    await app?.close();
  });

  it('a double tap delivered twice makes one assigned order (the same as over HTTP); a request for somebody else is rejected with a reason; one for another region\'s elder is left to that region', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    const other = await seedElder(app, feed, elderSnapshot(d.community));
    const cg = await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: HOME.lat + 0.001, lng: HOME.lng } }));
    const guardian = { userId: `u-${uniqueSuffix()}`, role: 'guardian', elderIds: [elder.elderId] };
    const key = `tap-${uniqueSuffix()}`;
    const tap = request({ requestId: key, requestedBy: guardian, elderId: elder.elderId, itemCode: 'BATHING_ASSIST', notes: '一键下单' });
    const foreign = request({ requestId: `tap-${uniqueSuffix()}`, requestedBy: guardian, elderId: other.elderId, itemCode: 'BATHING_ASSIST' });
    // An elder this deployment does not serve (another region's deployment answers for it).
    const elsewhere = request({ requestId: `tap-${uniqueSuffix()}`, requestedBy: guardian, elderId: `e-other-region-${uniqueSuffix()}`, itemCode: 'BATHING_ASSIST' });
    const intake = app.get(OrderIntake);
    const leftBefore = intake.totals.elsewhere;
    // The same envelope twice (redelivery) and a second tap (a new envelope, same key).
    await send([tap, tap, request({ requestId: key, requestedBy: guardian, elderId: elder.elderId, itemCode: 'BATHING_ASSIST' }), foreign, elsewhere]);

    const orderId = orderIdFor(guardian.userId, key);
    await waitFor(() => typesOf(orderId).includes('dispatch.order.assigned'), 'the assignment event');
    const order = (await call(guardian as Principal, 'GET', `/orders/${orderId}`)).json();
    expect(order).toMatchObject({ state: 'ASSIGNED', caregiverId: cg.caregiverId, source: 'GUARDIAN', notes: '一键下单' });
    const rejectedId = orderIdFor(guardian.userId, foreign.payload.requestId);
    await waitFor(() => typesOf(rejectedId).includes('dispatch.order.request-rejected'), 'the rejection');
    const rejection = JSON.parse(sink.records.find((r) => r.key === rejectedId)?.value ?? '{}');
    expect(rejection.payload).toMatchObject({ code: 'DISPATCH.ELDER_NOT_FOUND', requestId: foreign.payload.requestId });
    expect((await call(guardian as Principal, 'GET', `/orders/${rejectedId}`)).statusCode).toBe(404);
    await waitFor(() => intake.totals.elsewhere > leftBefore, 'the request for an elder served elsewhere');
    expect(typesOf(orderIdFor(guardian.userId, elsewhere.payload.requestId))).toEqual([]);

    // The same key over HTTP is the same order; the caregiver accepts and the events stay in order.
    const http = await call(guardian as Principal, 'POST', '/orders', { elderId: elder.elderId, itemCode: 'BATHING_ASSIST' }, { 'idempotency-key': key });
    expect(http.statusCode).toBe(200);
    expect(http.json().orderId).toBe(orderId);
    expect((await call({ userId: 'cg', role: 'caregiver', caregiverId: cg.caregiverId }, 'POST', `/offers/${orderId}/accept`)).statusCode).toBe(200);
    await waitFor(() => typesOf(orderId).includes('dispatch.order.state-changed'), 'the acceptance event');
    // Exactly these: other test files' dispatch apps (other regions, same topics) must not answer.
    expect(typesOf(orderId)).toEqual(['dispatch.order.placed', 'dispatch.order.assigned', 'dispatch.order.state-changed']);
    const all = await call({ userId: 'b', role: 'civil_affairs_admin', regionCode: d.county }, 'GET', `/orders?elderId=${elder.elderId}`);
    expect(all.json().total).toBe(1);
  });

  it('a round whose events could not be sent after its orders were stored publishes them on redelivery — one order, nothing lost', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: HOME.lat - 0.001, lng: HOME.lng } }));
    const bureau = { userId: `u-${uniqueSuffix()}`, role: 'civil_affairs_admin', regionCode: d.county };
    const key = `crash-${uniqueSuffix()}`;
    const orderId = orderIdFor(bureau.userId, key);
    // The broker "goes away" for the first send that carries this order: the round fails after its insert.
    const outage = failOnce(app.get(EventPublisher), 'send', (records: { key: string }[]) => records.some((r) => r.key === orderId), 'broker unavailable');
    try {
      await send([request({ requestId: key, requestedBy: bureau, elderId: elder.elderId, itemCode: 'HOME_CLEANING' })]);
      await waitFor(() => typesOf(orderId).includes('dispatch.order.assigned'), 'the assignment event after the redelivery');
    } finally {
      outage.restore();
    }
    expect(outage.failures()).toBe(1);
    expect((await call(bureau as Principal, 'GET', `/orders/${orderId}`)).json()).toMatchObject({ state: 'ASSIGNED' });
    // The redelivered request found its order stored (not placed twice).
    expect(app.get(OrderIntake).totals.existing).toBeGreaterThanOrEqual(1);
    const all = await call(bureau as Principal, 'GET', `/orders?elderId=${elder.elderId}`);
    expect(all.json().total).toBe(1);
    // The failed round's marker is still there: the sweep (normally for rounds older than 30 s) publishes
    // its orders' first events from the orders themselves and removes it.
    const intake = app.get(OrderIntake);
    expect(await intake.batches.countDocuments({})).toBe(1);
    expect(await intake.sweep(0)).toBe(2);
    expect(await intake.batches.countDocuments({})).toBe(0);
    // First occurrences in order: placed, then assigned.
    const types = typesOf(orderId);
    expect(types.indexOf('dispatch.order.placed')).toBeLessThan(types.indexOf('dispatch.order.assigned'));
  });

  it('a round that stored its events but not its orders publishes nothing for them: the redelivered request places the order once, with its events once', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { homeBase: { lat: HOME.lat, lng: HOME.lng + 0.001 } }));
    const bureau = { userId: `u-${uniqueSuffix()}`, role: 'civil_affairs_admin', regionCode: d.county };
    const key = `lost-insert-${uniqueSuffix()}`;
    const orderId = orderIdFor(bureau.userId, key);
    const intake = app.get(OrderIntake);
    const orders = app.get(OrdersService).orders;
    // The database "goes away" for the first insert of this order: the round's marker (with the
    // order's events) is written, the order is not.
    const outage = failOnce(orders, 'insertMany', (docs: { _id: string }[]) => docs.some((o) => o._id === orderId), 'database unavailable');
    try {
      await send([request({ requestId: key, requestedBy: bureau, elderId: elder.elderId, itemCode: 'HOME_CLEANING' })]);
      await waitFor(() => typesOf(orderId).includes('dispatch.order.assigned'), 'the assignment event after the redelivery');
    } finally {
      outage.restore();
    }
    expect(outage.failures()).toBe(1);
    // The failed round's marker names the order and holds its events, but its insert stored nothing:
    // the sweep publishes none of them.
    const stale = await intake.batches.find({ orderIds: orderId }).toArray();
    expect(stale).toHaveLength(1);
    expect(unpackEvents(stale[0])?.get(orderId)?.map((e) => e.type)).toEqual(['dispatch.order.placed', 'dispatch.order.assigned']);
    expect(await intake.sweep(0)).toBe(0);
    expect(await intake.batches.countDocuments({})).toBe(0);
    expect((await orders.findOne({ _id: orderId }))?.intake?.batchId).not.toBe(stale[0]._id);
    await new Promise((r) => setTimeout(r, 500));
    expect(typesOf(orderId)).toEqual(['dispatch.order.placed', 'dispatch.order.assigned']);
  });
});

/**
 * A dependency that fails once: the first call whose first argument matches throws (an outage in the
 * middle of a round); every other call goes to the real method.
 */
function failOnce<T extends object, K extends keyof T>(target: T, method: K, matches: (arg: never) => boolean, message: string) {
  const real = (target[method] as (...args: unknown[]) => unknown).bind(target);
  let failures = 0;
  const spy = jest.spyOn(target, method as never).mockImplementation((async (...args: unknown[]) => {
    if (failures === 0 && matches(args[0] as never)) {
      failures++;
      throw new Error(message);
    }
    return real(...args);
  }) as never);
  return { failures: () => failures, restore: () => spy.mockRestore() };
}
