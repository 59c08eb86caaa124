import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BillingTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { getConnectionToken } from '@nestjs/mongoose';
import { SERVICE } from '../service';
import { admin, allowancePolicy, approved, elderSnapshot, price, produce, registered, startGroupsAtEnd, testAppModule, verified, visit } from '../testing/support';

jest.setTimeout(120_000);

describe('charging verified visits (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  const suffix = uniqueSuffix().toUpperCase();
  const provider = `prov-${suffix}`;
  const http = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => app.inject({ method, url, headers: asPrincipal(admin), payload });
  const db = () => app.get<Connection>(getConnectionToken());

  beforeAll(async () => {
    await startGroupsAtEnd();
    app = await bootTestApp(testAppModule(), SERVICE);
    const policy = await http('POST', '/policies', allowancePolicy(`HOME-${suffix}`));
    expect(policy.statusCode).toBe(201);
    expect((await http('PUT', '/budgets/COUNTY/2026/130203000000', { allocatedFen: 100_000_000 })).statusCode).toBe(200);
    await produce([price(provider, 'CLEAN-2H', 8_000, '2026-01-01'), price(provider, 'CLEAN-2H', 9_000, '2026-03-01')]);
  });
  afterAll(() => app?.close());

  it('splits each visit into subsidy and co-payment by the price and policy of its date; an empty balance means co-payment, never a negative balance', async () => {
    const elder = elderSnapshot();
    const sink = await collect(testKafka(), [BillingTopics.ledger.name, BillingTopics.entitlements.name]);
    try {
      await produce([registered(elder)]);
      const granted = await waitFor(() => sink.records.find((r) => r.type === 'billing.entitlement.granted' && r.key === elder.elderId), 'the entitlement');
      expect(JSON.parse(granted.value).payload).toMatchObject({ elderId: elder.elderId, validFrom: '2026-01-01', benefitKind: 'MONTHLY_ALLOWANCE' });

      // February: 8,000 fen an hour. 1.5 h = 12,000: all subsidy; then 8,000 left → 4,000 co-pay; then nothing left.
      const feb = [1, 2, 3].map((d) => visit({ elderId: elder.elderId, providerId: provider, itemCode: 'CLEAN-2H', serviceDate: `2026-02-0${d}`, quantity: 1.5 }));
      // One at a time (visits are keyed by visit, so different visits may be charged concurrently):
      // the order decides which visit finds the allowance already spent.
      for (const v of feb) {
        await produce([verified(v)]);
        await waitFor(async () => (await http('GET', `/ledger/charges/${v.visitId}`)).statusCode === 200, 'the charge');
      }
      // March: the new price (9,000) and a fresh month's allowance.
      const mar = visit({ elderId: elder.elderId, providerId: provider, itemCode: 'CLEAN-2H', serviceDate: '2026-03-02', quantity: 1 });
      await produce([verified(mar)]);
      const charges = await waitFor(async () => {
        const got = await Promise.all([...feb, mar].map(async (v) => (await http('GET', `/ledger/charges/${v.visitId}`)).json()));
        return got.every((g) => g.charge) ? got.map((g) => g.charge) : null;
      }, 'four charges');
      expect(charges.map((c) => [c.grossFen, c.subsidyFen, c.copayFen])).toEqual([
        [12_000, 12_000, 0],
        [12_000, 8_000, 4_000],
        [12_000, 0, 12_000],
        [9_000, 9_000, 0],
      ]);
      expect(charges[3]).toMatchObject({ unitPriceFen: 9_000, settlementMonth: '2026-03' });

      const accounts = (await http('GET', `/accounts/${elder.elderId}`)).json();
      expect(accounts).toHaveLength(1);
      expect(accounts[0].periods).toEqual([
        expect.objectContaining({ period: '2026-02', creditedFen: 20_000, drawnFen: 20_000, remainingFen: 0 }),
        expect.objectContaining({ period: '2026-03', creditedFen: 20_000, drawnFen: 9_000, remainingFen: 11_000 }),
      ]);
      // Only this app's announcements (another billing instance on the shared broker may see the same visits).
      const announced = new Set(charges.map((c) => c.eventId as string));
      const posted = await waitFor(() => {
        const got = sink.records.filter((r) => r.type === 'billing.charge.posted' && announced.has(r.eventId ?? ''));
        return got.length >= 4 ? got : null;
      }, 'four ChargePosted events');
      expect(posted.map((r) => JSON.parse(r.value).payload.subsidyFen).sort((a: number, b: number) => a - b)).toEqual([0, 8_000, 9_000, 12_000]);

      // A correction is a reversing entry; the allowance comes back exactly once even if the request is repeated.
      for (let i = 0; i < 2; i++) expect((await http('POST', `/ledger/charges/${feb[1].visitId}/reversal`, { reason: '重复上报' })).statusCode).toBe(201);
      const after = (await http('GET', `/accounts/${elder.elderId}`)).json();
      expect(after[0].periods[0]).toMatchObject({ period: '2026-02', drawnFen: 20_000, reversedFen: 8_000, remainingFen: 8_000 });
      const bad = await http('POST', `/ledger/charges/${feb[1].visitId}/reversal`, { reason: '' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'reason' });
    } finally {
      await sink.stop();
    }
  });

  it('explains, rule by rule, why an elder is or is not eligible', async () => {
    const notAlone = elderSnapshot({ categories: ['EMPTY_NEST'] });
    await produce([registered(notAlone)]);
    const res = await waitFor(async () => {
      const r = await http('GET', `/entitlements/${notAlone.elderId}/explanation?on=2026-02-01`);
      return r.statusCode === 200 ? r.json() : null;
    }, 'the explanation');
    const mine = res.policies.find((p: { policyCode: string }) => p.policyCode === `HOME-${suffix}`);
    expect(mine).toMatchObject({ eligible: false, entitlement: null });
    expect(mine.rules.find((r: { rule: string }) => r.rule === 'categoriesAny')).toMatchObject({ met: false, zh: '不属于独居、特困中任一类' });
    expect((await http('GET', `/entitlements/${notAlone.elderId}/explanation?on=2026-13-01`)).json()).toMatchObject({ field: 'on' });
  });

  it('charges a flagged-then-approved visit once, when approved', async () => {
    const elder = elderSnapshot();
    await produce([registered(elder)]);
    await waitFor(async () => (await http('GET', `/entitlements/${elder.elderId}`)).json()?.[0]?.state === 'GRANTED', 'the entitlement');
    const v = visit({ elderId: elder.elderId, providerId: provider, itemCode: 'CLEAN-2H', serviceDate: '2026-02-10', state: 'FLAGGED' });
    await produce([approved(v), approved(v)]);
    const got = await waitFor(async () => (await http('GET', `/ledger/charges/${v.visitId}`)).json().charge, 'the charge');
    expect(got).toMatchObject({ grossFen: 8_000, subsidyFen: 8_000 });
    const count = await db().collection('ledger').countDocuments({ visitId: v.visitId });
    expect(count).toBe(1);
  });
});
