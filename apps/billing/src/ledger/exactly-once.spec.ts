import 'reflect-metadata';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BillingTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { BudgetsService } from '../budgets/budgets.service';
import { EntitlementsService, entitlementId } from '../entitlements/entitlements.service';
import { PoliciesService } from '../policies/policies.service';
import { SERVICE } from '../service';
import { admin, allowancePolicy, approved, elderSnapshot, price, produce, registered, startGroupsAtEnd, testAppModule, verified, visit } from '../testing/support';
import { AccountsService } from './accounts.service';
import { drawKey } from './journal';

jest.setTimeout(170_000);

/**
 * The promise users trust: every verified visit is charged exactly once. Every event is delivered
 * twice (and some visits a third time under a new event id, as a producer retry would), the first
 * instance is shut down in the middle of its batches, a charge is left half-done as a crash would
 * leave it, and two replicas then finish the work on the same database and consumer group.
 */
describe('exactly-once charging under redelivery, a stop mid-batch and two replicas (real Kafka + database)', () => {
  const suffix = uniqueSuffix().toUpperCase();
  const provider = `prov-${suffix}`;
  const ELDERS = 4;
  const VISITS = 15; // per elder: 15 × 3,000 fen = 45,000 > the 20,000 allowance
  const apps: NestFastifyApplication[] = [];
  const boot = async () => {
    const app = await bootTestApp(testAppModule(), SERVICE);
    apps.push(app);
    return app;
  };
  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
  });

  it('ends with exact charges, balances, budgets and events', async () => {
    await startGroupsAtEnd();
    const first = await boot();
    const http = (app: NestFastifyApplication, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
      app.inject({ method, url, headers: asPrincipal(admin), payload });
    expect((await http(first, 'POST', '/policies', allowancePolicy(`EO-${suffix}`))).statusCode).toBe(201);
    expect((await http(first, 'PUT', '/budgets/COUNTY/2026/130203000000', { allocatedFen: 10_000_000 })).statusCode).toBe(200);
    const elders = Array.from({ length: ELDERS }, () => elderSnapshot());
    await produce([price(provider, 'CLEAN-1H', 3_000, '2026-01-01'), ...elders.map((e) => registered(e))]);
    const ents = first.get(EntitlementsService);
    await waitFor(async () => (await ents.entitlements.countDocuments({ elderId: { $in: elders.map((e) => e.elderId) }, state: 'GRANTED' })) === ELDERS, 'the entitlements');

    const visits = elders.flatMap((e) =>
      Array.from({ length: VISITS }, (_, i) =>
        visit({ elderId: e.elderId, providerId: provider, itemCode: 'CLEAN-1H', serviceDate: `2026-02-${String(1 + (i % 28)).padStart(2, '0')}`, startedAt: `2026-02-${String(1 + (i % 28)).padStart(2, '0')}T0${i % 8}:00:00.000+08:00` }),
      ),
    );
    // Every fifth visit was flagged and later approved: it is billed on VisitApproved.
    const events = visits.map((v, i) => (i % 5 === 0 ? approved(v) : verified(v)));
    // A crash after reserving a balance and a budget share but before the journal was written:
    // the retry must reuse those reservations, not take the money a second time.
    const crashed = visits[1];
    const policy = (await first.get(PoliciesService).all()).find((p) => p.code === `EO-${suffix}`)!;
    const ent = (await ents.entitlements.findOne({ _id: entitlementId(crashed.elderId, policy.code) }))!;
    const half = await first.get(AccountsService).draw(policy, ent, crashed.serviceDate, drawKey(crashed.visitId), 3_000, 'crashed-attempt');
    expect(half.takenFen).toBe(3_000);
    const budgets = first.get(BudgetsService);
    expect(await budgets.reserve(await budgets.budgetFor('COUNTY', 2026, crashed.regionCode), `${drawKey(crashed.visitId)}:${policy.code}`, 3_000)).toBe('OK');

    const sink = await collect(testKafka(), [BillingTopics.ledger.name]);
    try {
      const redelivered = visits.filter((_, i) => i % 7 === 3).map((v) => verified(v)); // same visit, new event id
      await produce([...events, ...events, ...redelivered]);

      const ledger = () => first.get<Connection>(getConnectionToken()).collection('ledger');
      const mine = { elderId: { $in: elders.map((e) => e.elderId) } };
      // Stop the first instance while it is in the middle of the work.
      await waitFor(async () => (await ledger().countDocuments({ ...mine, kind: 'CHARGE' })) >= 10, 'some charges', 60_000);
      await first.close();
      const midway = await ledger().countDocuments({ ...mine, kind: 'CHARGE' }).catch(() => -1);
      apps.splice(apps.indexOf(first), 1);

      // Two replicas finish on the same database and consumer groups.
      const [a, b] = await Promise.all([boot(), boot()]);
      const db = a.get<Connection>(getConnectionToken());
      await waitFor(async () => (await db.collection('ledger').countDocuments({ ...mine, kind: 'CHARGE' })) === ELDERS * VISITS, 'every charge', 120_000);
      expect(midway).toBeLessThan(ELDERS * VISITS);

      // Let any straggling duplicate deliveries and the outbox settle, then check the books.
      const journals = await db.collection('ledger').find(mine).toArray();
      // This app's announcements only (another billing instance on the shared broker may see the same visits).
      const announced = new Set(journals.filter((j) => j['kind'] === 'CHARGE').map((j) => j['eventId'] as string));
      expect(announced.size).toBe(ELDERS * VISITS);
      await waitFor(() => new Set(sink.records.filter((r) => announced.has(r.eventId ?? '')).map((r) => r.eventId)).size === ELDERS * VISITS, 'every ChargePosted event', 60_000);
      expect(journals.filter((j) => j['kind'] === 'CHARGE')).toHaveLength(ELDERS * VISITS);
      expect(journals.filter((j) => j['kind'] === 'CREDIT')).toHaveLength(ELDERS);
      for (const e of elders) {
        const charges = journals.filter((j) => j['kind'] === 'CHARGE' && j['elderId'] === e.elderId);
        const subsidy = charges.reduce((s, j) => s + j['subsidyFen'], 0);
        const copay = charges.reduce((s, j) => s + j['copayFen'], 0);
        expect([subsidy, copay]).toEqual([20_000, VISITS * 3_000 - 20_000]);
        for (const j of charges) for (const side of ['subsidyFen', 'copayFen']) expect(j[side]).toBeGreaterThanOrEqual(0);
        const accounts = (await http(a, 'GET', `/accounts/${e.elderId}`)).json();
        expect(accounts[0]).toMatchObject({ ledgerBalanceFen: 0, periods: [expect.objectContaining({ period: '2026-02', creditedFen: 20_000, drawnFen: 20_000, remainingFen: 0 })] });
      }
      // The balance guards agree with the ledger, and the budget counted every fen once.
      const balances = await db.collection('balances').find({ accountId: { $in: elders.map((e) => `acct:${e.elderId}:EO-${suffix}`) } }).toArray();
      expect(balances).toHaveLength(ELDERS);
      for (const bal of balances) {
        expect(bal['remainingFen']).toBe(0);
        expect(Object.values(bal['draws'] as Record<string, number>).reduce((s, x) => s + x, 0)).toBe(20_000);
      }
      const budget = (await db.collection('budgets').findOne({ _id: 'bud:COUNTY:2026:130203000000' as never }))!;
      const spentHere = journals.filter((j) => j['kind'] === 'CHARGE').reduce((s, j) => s + j['subsidyFen'], 0);
      expect(spentHere).toBe(ELDERS * 20_000);
      expect(budget['pending'].filter((p: { key: string }) => visits.some((v) => p.key.startsWith(drawKey(v.visitId))))).toEqual([]);
      // Exactly one ChargePosted per visit (an outbox entry is published once per stored journal).
      const posted = sink.records.filter((r) => r.type === 'billing.charge.posted' && announced.has(r.eventId ?? ''));
      const perCharge = new Map<string, Set<string>>();
      for (const r of posted) {
        const id = JSON.parse(r.value).payload.chargeId as string;
        perCharge.set(id, (perCharge.get(id) ?? new Set()).add(r.eventId ?? ''));
      }
      expect(perCharge.size).toBe(ELDERS * VISITS);
      expect([...perCharge.values()].every((ids) => ids.size === 1)).toBe(true);
      void b;
    } finally {
      await sink.stop();
    }
  });
});
