import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DispatchTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { PlansService } from '../plans/plans.service';
import { addDays, chinaDate } from '../shared/time';
import { bootDispatch, caregiverSnapshot, elderSnapshot, RegistryFeed, seedCaregiver, seedElder, seedNetwork, testDistrict } from '../testing/test-support';
import { RoundsService } from './rounds.service';

/** Visiting rounds and recurring service plans through the API, with registry events in and dispatch events out. */
// The shared local database can be slow when other work runs; generous limits, never a wall-clock assertion.
jest.setTimeout(120_000);

describe('rounds and service plans (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let feed: RegistryFeed;
  let sink: { records: CollectedRecord[]; stop(): Promise<void> };
  const d = testDistrict();
  let providerId: string;
  const admin: Principal = { userId: 'street', role: 'civil_affairs_admin', regionCode: d.street };
  const call = (p: Principal, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => app.inject({ method, url, headers: asPrincipal(p), payload });

  beforeAll(async () => {
    app = await bootDispatch(`test-dispatch-rounds-${uniqueSuffix()}`, { DISPATCH_REGION_SCOPE: d.county });
    feed = await RegistryFeed.connect();
    sink = await collect(testKafka(), [DispatchTopics.rounds.name, DispatchTopics.orders.name, DispatchTopics.emergencies.name]);
    providerId = await seedNetwork(app, feed, [d.community]);
  }, 180_000);
  afterAll(async () => {
    await sink?.stop();
    await feed?.close();
    await app?.close();
  });

  it('generates weekly rounds for elders living alone aged 80+, assigns the social worker, follows findings up, and reports overdue per community', async () => {
    const alone80 = await seedElder(app, feed, elderSnapshot(d.community, { categories: ['LIVING_ALONE', 'ADVANCED_AGE'], birthDate: '1938-01-01' }));
    const alone80b = await seedElder(app, feed, elderSnapshot(d.community, { categories: ['LIVING_ALONE', 'ADVANCED_AGE', 'LOW_INCOME'], birthDate: '1939-05-05' }));
    const alone80c = await seedElder(app, feed, elderSnapshot(d.community, { categories: ['LIVING_ALONE', 'ADVANCED_AGE'], birthDate: '1936-05-05' }));
    const emptyNest = await seedElder(app, feed, elderSnapshot(d.community, { categories: ['EMPTY_NEST'], birthDate: '1950-01-01' }));
    const worker = await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community, { kind: 'SOCIAL_WORKER', skills: [] }));
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community)); // a caregiver: not a round assignee

    const ruleId = `rule-${uniqueSuffix()}`;
    const rule = await call(admin, 'PUT', `/round-rules/${ruleId}`, { regionCode: d.street, name: '独居高龄每周巡访', allOf: ['LIVING_ALONE', 'ADVANCED_AGE'], minAge: 80, everyDays: 7 });
    expect(rule.statusCode).toBe(200);
    const badRule = await call(admin, 'PUT', `/round-rules/x-${uniqueSuffix()}`, { regionCode: d.street, name: 'x', allOf: ['NOT_A_CATEGORY'], everyDays: 7 });
    expect(badRule.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'allOf.0' });

    const gen = (await call(admin, 'POST', '/rounds/generate')).json();
    expect(gen.created).toBe(3);
    expect((await call(admin, 'POST', '/rounds/generate')).json().created).toBe(0); // idempotent

    const socialWorker: Principal = { userId: 'sw', role: 'caregiver', caregiverId: worker.caregiverId };
    const mine = (await call(socialWorker, 'GET', '/rounds?mine=1')).json();
    expect(mine.items.map((r: { elderId: string }) => r.elderId).sort()).toEqual([alone80.elderId, alone80b.elderId, alone80c.elderId].sort());
    expect(mine.items.every((r: { state: string; ruleId: string }) => r.state === 'ASSIGNED' && r.ruleId === ruleId)).toBe(true);
    expect(mine.items.map((r: { elderId: string }) => r.elderId)).not.toContain(emptyNest.elderId);
    const byElder = (id: string) => mine.items.find((r: { elderId: string }) => r.elderId === id);

    const fine = await call(socialWorker, 'POST', `/rounds/${byElder(alone80.elderId).roundId}/complete`, { finding: 'FINE', notes: '精神很好' });
    expect(fine.json()).toMatchObject({ state: 'COMPLETED', finding: 'FINE' });
    const missingItem = await call(socialWorker, 'POST', `/rounds/${byElder(alone80b.elderId).roundId}/complete`, { finding: 'NEEDS_SERVICE' });
    expect(missingItem.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'itemCode' });
    const needs = (await call(socialWorker, 'POST', `/rounds/${byElder(alone80b.elderId).roundId}/complete`, { finding: 'NEEDS_SERVICE', notes: '家里很乱', itemCode: 'HOME_CLEANING' })).json();
    expect(needs.followUpOrderId).toEqual(expect.any(String));
    const order = (await call(admin, 'GET', `/orders/${needs.followUpOrderId}`)).json();
    expect(order).toMatchObject({ source: 'ROUND', roundId: needs.roundId, itemCode: 'HOME_CLEANING', elderId: alone80b.elderId });

    // The third round is not done: a week later it is overdue, counted for its community.
    const rounds = app.get(RoundsService);
    expect(await rounds.markOverdue(addDays(chinaDate(new Date()), 8))).toBeGreaterThanOrEqual(1);
    const report = (await call(admin, 'GET', '/rounds/overdue')).json();
    expect(report.communities.find((c: { regionCode: string }) => c.regionCode === d.community)).toMatchObject({ overdue: 1, completed: 2 });
    await waitFor(() => sink.records.some((r) => r.key === byElder(alone80c.elderId).roundId && r.type === 'dispatch.round.overdue'), 'RoundOverdue event');

    // An overdue round can still be done; URGENT raises an emergency.
    const urgent = (await call(socialWorker, 'POST', `/rounds/${byElder(alone80c.elderId).roundId}/complete`, { finding: 'URGENT', notes: '老人摔倒在地' })).json();
    expect(urgent.followUpEmergencyId).toEqual(expect.any(String));
    const em = (await call(admin, 'GET', `/emergencies/${urgent.followUpEmergencyId}`)).json();
    expect(em).toMatchObject({ kind: 'ROUND_URGENT', source: 'ROUND', elderId: alone80c.elderId, state: 'OPEN' });
  });

  it('a daily meal plan generates its orders ahead, once, however often generation runs', async () => {
    const elder = await seedElder(app, feed, elderSnapshot(d.community));
    const guardian: Principal = { userId: 'g', role: 'guardian', elderIds: [elder.elderId] };
    await seedCaregiver(app, feed, caregiverSnapshot(providerId, d.community));
    const today = chinaDate(new Date());
    const bad = await call(guardian, 'POST', '/service-plans', { elderId: elder.elderId, itemCode: 'MEAL_DELIVERY', schedule: { kind: 'WEEKLY', times: ['11:30'] }, startsOn: today });
    expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'schedule.daysOfWeek' });
    const created = await call(guardian, 'POST', '/service-plans', {
      elderId: elder.elderId,
      itemCode: 'MEAL_DELIVERY',
      schedule: { kind: 'DAILY', times: ['11:30', '17:30'] },
      startsOn: today,
      endsOn: addDays(today, 730),
    });
    expect(created.statusCode).toBe(201);
    const plan = created.json();
    // Horizon 2 days: today (those still ahead), tomorrow and the day after.
    expect(plan.generated).toBeGreaterThanOrEqual(4);
    expect(plan.generated).toBeLessThanOrEqual(6);
    const plans = app.get(PlansService);
    await Promise.all([plans.generateAll(), plans.generateAll()]); // two "replicas" at once
    const orders = (await call(guardian, 'GET', `/orders?elderId=${elder.elderId}&pageSize=50`)).json();
    const fromPlan = orders.items.filter((o: { planId: string | null }) => o.planId === plan.planId);
    expect(fromPlan).toHaveLength(plan.generated);
    expect(new Set(fromPlan.map((o: { orderId: string }) => o.orderId)).size).toBe(plan.generated);
    expect(fromPlan[0]).toMatchObject({ source: 'SERVICE_PLAN', window: { asap: false } });
  });
});
