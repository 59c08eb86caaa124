import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  BillingTopics,
  BudgetThresholdReached,
  ChargePosted,
  ChargeReversed,
  DispatchTopics,
  EmergencyAcknowledged,
  MonitoringTopics,
  OrderCompleted,
  OrderPlaced,
  OrderRated,
  OrderStateChanged,
  RoundCompleted,
  RoundDue,
  VisitFlagged,
  VisitVerified,
  type EventDefinition,
  type OrderSnapshot,
  type RoundSnapshot,
  type VisitRecord,
} from '@yiyang/contracts';
import { regionPath } from '@yiyang/geo';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { waitFor } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { bootMonitoring, dropAndClose, startGroupsAtEnd, uid } from '../test-support';
import { shanghaiDate } from './figures.store';

jest.setTimeout(120_000);

// A county of its own, so events other test runs publish on the shared topics never land in it.
const rr = String(50 + Math.floor(Math.random() * 49));
const COUNTY = `1302${rr}000000`;
const STREET = `1302${rr}001000`;
const COMMUNITY = `1302${rr}001001`;
const PATH = regionPath(COMMUNITY);
const ADMIN: Principal = { userId: 'county-admin', role: 'civil_affairs_admin', regionCode: COUNTY };

describe('supervision dashboard, materialised from the event streams (real Kafka + database)', () => {
  const prefix = uid('test-figures');
  let app: NestFastifyApplication;
  const now = new Date();
  const today = shanghaiDate(now);

  const publish = async <P>(definition: EventDefinition<P>, key: string, payload: P, times = 1) => {
    const envelope = newEnvelope('dispatch', definition, { key, payload });
    await app.get(EventPublisher).publish(Array.from({ length: times }, () => envelope), () => definition.topic.name);
  };
  const dashboard = async (period = today.slice(0, 7)) =>
    (await app.inject({ method: 'GET', url: `/dashboards/${STREET}?period=${period}`, headers: asPrincipal(ADMIN) })).json();

  const order = (orderId: string, providerId: string, windowTo: Date): OrderSnapshot => ({
    orderId,
    elderId: 'e1',
    regionCode: COMMUNITY,
    regionPath: PATH,
    itemCode: 'MEAL_DELIVERY',
    category: 'MEALS',
    unit: 'PER_MEAL',
    quantity: 1,
    bookedMinutes: 30,
    window: { asap: false, from: new Date(windowTo.getTime() - 3_600_000).toISOString(), to: windowTo.toISOString() },
    priority: 'NORMAL',
    notes: '',
    source: 'GUARDIAN',
    placedBy: { userId: 'g', role: 'guardian' },
    planId: null,
    roundId: null,
    state: 'PLACED',
    providerId,
    caregiverId: 'c1',
    visitId: null,
    placedAt: now.toISOString(),
    version: 1,
  });
  const visit = (visitId: string, providerId: string): VisitRecord => ({
    visitId,
    orderId: 'o',
    elderId: 'e1',
    providerId,
    caregiverId: 'c1',
    itemCode: 'MEAL_DELIVERY',
    category: 'MEALS',
    unit: 'PER_MEAL',
    regionCode: COMMUNITY,
    regionPath: PATH,
    serviceDate: today,
    startedAt: now.toISOString(),
    endedAt: now.toISOString(),
    quantity: 1,
    bookedMinutes: 30,
    actualMinutes: 30,
    home: { lat: 39.6, lng: 118.1 },
    geofenceMeters: 100,
    checkIn: { at: now.toISOString(), location: { lat: 39.6, lng: 118.1 }, distanceMeters: 5, accuracyMeters: 5 },
    checkOut: null,
    flags: [],
    state: 'VERIFIED',
    version: 1,
  });
  const round = (roundId: string, state: RoundSnapshot['state']): RoundSnapshot => ({
    roundId,
    ruleId: 'r',
    elderId: 'e1',
    regionCode: COMMUNITY,
    regionPath: PATH,
    dueOn: today,
    periodStart: today,
    state,
    assigneeId: null,
    finding: state === 'COMPLETED' ? 'FINE' : null,
    notes: null,
    completedAt: state === 'COMPLETED' ? now.toISOString() : null,
    followUpOrderId: null,
    followUpEmergencyId: null,
    version: 1,
  });

  beforeAll(async () => {
    await startGroupsAtEnd(prefix, {
      figures: [DispatchTopics.orders.name, DispatchTopics.visits.name, DispatchTopics.rounds.name, DispatchTopics.emergencies.name, BillingTopics.ledger.name, BillingTopics.budgets.name, MonitoringTopics.alerts.name],
    });
    app = await bootMonitoring(prefix);
  });
  afterAll(() => dropAndClose(app));

  it('counts orders, punctuality, visits, ratings, rounds, SOS response and subsidy once each, per region and day', async () => {
    const late = new Date(now.getTime() - 3 * 3_600_000);
    const good = 'prov-good';
    const poor = 'prov-poor';
    await publish(OrderPlaced, 'o1', { order: order('o1', good, now) }, 3); // delivered three times: counts once
    await publish(OrderPlaced, 'o2', { order: order('o2', poor, late) });
    await publish(OrderStateChanged, 'o1', { order: order('o1', good, now), from: 'EN_ROUTE', to: 'CHECKED_IN', reason: null, by: { userId: 'c1', role: 'caregiver' }, at: now.toISOString() });
    await publish(OrderStateChanged, 'o2', { order: order('o2', poor, late), from: 'EN_ROUTE', to: 'CHECKED_IN', reason: null, by: { userId: 'c1', role: 'caregiver' }, at: now.toISOString() });
    await publish(OrderCompleted, 'o1', { order: order('o1', good, now), visitId: 'v1', completedAt: now.toISOString() });
    await publish(OrderRated, 'o1', { orderId: 'o1', elderId: 'e1', providerId: good, caregiverId: 'c1', itemCode: 'MEAL_DELIVERY', regionCode: COMMUNITY, regionPath: PATH, stars: 5, comment: '好', ratedBy: { userId: 'g', role: 'guardian' }, ratedAt: now.toISOString() });
    await publish(OrderRated, 'o2', { orderId: 'o2', elderId: 'e1', providerId: poor, caregiverId: 'c1', itemCode: 'MEAL_DELIVERY', regionCode: COMMUNITY, regionPath: PATH, stars: 2, comment: '迟到', ratedBy: { userId: 'g', role: 'guardian' }, ratedAt: now.toISOString() });
    await publish(VisitVerified, 'v1', { visit: visit('v1', good) });
    await publish(VisitFlagged, 'v2', { visit: visit('v2', poor), flags: ['TOO_SHORT'], details: ['8 of 30 minutes'] });
    await publish(RoundDue, 'r1', { round: round('r1', 'DUE') });
    await publish(RoundDue, 'r2', { round: round('r2', 'DUE') });
    await publish(RoundCompleted, 'r1', { round: round('r1', 'COMPLETED') });
    for (const [id, seconds] of [['em1', 40], ['em2', 100], ['em3', 500]] as const) {
      await publish(EmergencyAcknowledged, id, {
        emergency: {
          emergencyId: id, elderId: 'e1', facilityId: null, regionCode: COMMUNITY, regionPath: PATH, kind: 'SOS', source: 'DEVICE', alertId: null,
          location: null, state: 'ACKNOWLEDGED', level: 'RESPONDER', ackDeadline: null, notified: [], raisedAt: now.toISOString(),
          acknowledgedAt: now.toISOString(), acknowledgedBy: { userId: 'c1', role: 'caregiver', kind: 'CAREGIVER' }, closedAt: null, closeReason: null, version: 2,
        },
        responseSeconds: seconds,
        at: now.toISOString(),
      });
    }
    await publish(ChargePosted, 'acc-1', {
      chargeId: 'ch1', sourceEventId: 'x', visitId: 'v1', orderId: 'o1', elderId: 'e1', providerId: good, caregiverId: 'c1', itemCode: 'MEAL_DELIVERY',
      regionCode: COMMUNITY, serviceDate: today, settlementMonth: today.slice(0, 7), quantity: 1, unitPriceFen: 1500, grossFen: 1500, subsidyFen: 1200, copayFen: 300, heldFen: 0, parts: [],
    }, 2);

    let last: unknown;
    const figures = await waitFor(async () => {
      const d = await dashboard();
      last = d;
      return d.subsidy?.spentFen === 1200 && d.sosResponse?.count === 3 && d.rounds?.completed === 1 && d.visits?.flagged === 1 && d.satisfaction?.ratings === 2 ? d : null;
    }, 'figures to arrive', 45_000).catch((e) => {
      throw new Error(`${e.message}; last: ${JSON.stringify(last)}`);
    });
    expect(figures).toMatchObject({
      regionCode: STREET,
      level: 'STREET',
      orders: { placed: 2, completed: 1, arrivals: 2, onTimeRate: 0.5 },
      visits: { verified: 1, flagged: 1, verifiedShare: 0.5 },
      satisfaction: { ratings: 2, averageStars: 3.5 },
      rounds: { due: 2, completed: 1, completionRate: 0.5 },
      subsidy: { spentFen: 1200, grossFen: 1500, copayFen: 300 },
    });
    expect(figures.sosResponse.medianSeconds).toBeGreaterThan(60);
    expect(figures.sosResponse.medianSeconds).toBeLessThanOrEqual(120);
    expect(figures.sosResponse.p90Seconds).toBeGreaterThan(300);
    expect(figures.providers.ranking.map((p: { providerId: string }) => p.providerId)).toEqual([good, poor]);

    // The same figures for the day, and nothing on another day.
    expect((await dashboard(today)).orders).toMatchObject({ placed: 2, completed: 1 });
    const otherDay = `${today.slice(0, 8)}${today.slice(8) === '01' ? '02' : '01'}`;
    expect((await dashboard(otherDay)).orders.placed).toBe(0);
  });

  it('keeps subsidy spent vs budget current from every charge and reversal, not only from threshold events', async () => {
    const budgetId = uid('budget');
    const year = Number(today.slice(0, 4));
    const budgetOf = async () => (await dashboard()).subsidy.budget as { budgets: number; allocatedFen: number; spentFen: number; usedRate: number };
    // Billing announces the budget at its 50 % threshold: 5,000 of 10,000 fen spent (by charges before this test).
    await publish(BudgetThresholdReached, budgetId, { budgetId, fundSource: 'MUNICIPAL', year, regionCode: STREET, thresholdPercent: 50, allocatedFen: 10_000, spentFen: 5_000, heldFen: 0 });
    await waitFor(async () => (await budgetOf()).allocatedFen >= 10_000, 'the budget to be known');
    const before = await budgetOf();
    // Charges drawing on it, before the next threshold is crossed: delivered twice, counted once.
    const charge = (chargeId: string, fen: number) => ({
      chargeId, sourceEventId: uid('src'), visitId: uid('v'), orderId: 'o9', elderId: 'e1', providerId: 'prov-good', caregiverId: 'c1', itemCode: 'MEAL_DELIVERY',
      regionCode: COMMUNITY, serviceDate: today, settlementMonth: today.slice(0, 7), quantity: 1, unitPriceFen: fen, grossFen: fen, subsidyFen: fen, copayFen: 0, heldFen: 0,
      parts: [{ policyId: 'p1', accountId: 'a1', fundSource: 'MUNICIPAL' as const, budgetId, amountFen: fen }],
    });
    await publish(ChargePosted, 'e1', charge('chb1', 3_000), 2);
    await publish(ChargePosted, 'e1', charge('chb2', 3_500));
    // Drawn since the threshold (6,500) is now above billing's last figure (5,000).
    const after = await waitFor(async () => ((await budgetOf()).spentFen - before.spentFen === 1_500 ? budgetOf() : null), 'spent to follow the charges');
    expect(after.allocatedFen - before.allocatedFen).toBe(0);
    // A reversal gives the charge's draw back to its budget.
    await publish(ChargeReversed, 'e1', { reversalId: 'rv1', chargeId: 'chb2', visitId: 'v', elderId: 'e1', providerId: 'prov-good', regionCode: COMMUNITY, serviceDate: today, settlementMonth: today.slice(0, 7), subsidyFen: 3_500, copayFen: 0, reason: '核查不实' });
    await waitFor(async () => (await budgetOf()).spentFen === before.spentFen, 'the reversal to give the draw back (billing’s 5,000 is the floor again)');
  });

  it('shows a region only to bureaus above it, and names a bad period', async () => {
    const outsider: Principal = { userId: 'x', role: 'civil_affairs_admin', regionCode: '130202000000' };
    expect((await app.inject({ method: 'GET', url: `/dashboards/${STREET}`, headers: asPrincipal(outsider) })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: `/dashboards/${STREET}?period=2026-13-99x`, headers: asPrincipal(ADMIN) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'period' });
  });
});
