import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BillingTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import ExcelJS from 'exceljs';
import { SERVICE } from '../service';
import { admin, allowancePolicy, COUNTY, elderSnapshot, price, produce, registered, startGroupsAtEnd, statusChanged, testAppModule, verified, visit } from '../testing/support';

jest.setTimeout(150_000);

describe('monthly settlement, fund budgets and anomalies (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  const suffix = uniqueSuffix().toUpperCase();
  const provider = `prov-${suffix}`;
  const http = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => app.inject({ method, url, headers: asPrincipal(admin), payload });
  const chargeOf = (visitId: string) => waitFor(async () => (await http('GET', `/ledger/charges/${visitId}`)).json().charge, `the charge of ${visitId}`);

  beforeAll(async () => {
    await startGroupsAtEnd();
    app = await bootTestApp(testAppModule(), SERVICE);
  });
  afterAll(() => app?.close());

  it('settles a month per provider, holds what a budget cannot pay, rolls a late visit to the next statement, and lists anomalies', async () => {
    const sink = await collect(testKafka(), [BillingTopics.settlements.name, BillingTopics.budgets.name, BillingTopics.ledger.name]);
    try {
      expect((await http('POST', '/policies', allowancePolicy(`HOME-${suffix}`))).statusCode).toBe(201);
      const meal = {
        code: `MEAL-${suffix}`, nameZh: '长者食堂助餐补贴', nameEn: 'Canteen meal subsidy', regionCode: COUNTY, effectiveFrom: '2026-01-01',
        eligibility: { minAge: 60 }, benefit: { kind: 'PER_UNIT_SUBSIDY', maxSubsidyFenPerUnit: 800, copay: { mode: 'PERCENT', percent: 30 } },
        eligibleItems: [`LUNCH-${suffix}`], funding: [{ fundSource: 'PROVINCIAL', sharePercent: 100 }],
      };
      expect((await http('POST', '/policies', meal)).statusCode).toBe(201);
      const badBudget = await http('PUT', '/budgets/CITY_FUND/2026/130203000000', { allocatedFen: 1 });
      expect(badBudget.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'fundSource' });
      expect((await http('PUT', '/budgets/COUNTY/2026/130203000000', { allocatedFen: 50_000_000 })).statusCode).toBe(200);
      // A provincial budget of 10 yuan: the first meal subsidy (8 yuan) fits, the second does not.
      const provincial = `/budgets/PROVINCIAL/2026/130203001000`;
      expect((await http('PUT', provincial, { allocatedFen: 1_000 })).statusCode).toBe(200);

      const alive = elderSnapshot();
      const dying = elderSnapshot({ categories: ['DESTITUTE'] });
      await produce([price(provider, 'CLEAN-1H', 8_000, '2026-01-01'), price(provider, `LUNCH-${suffix}`, 1_500, '2026-01-01'), registered(alive), registered(dying)]);
      await waitFor(async () => (await http('GET', `/entitlements/${dying.elderId}`)).json()?.length === 2, 'the entitlements');
      await produce([statusChanged(dying, 'DECEASED', '2026-02-10')]);
      await waitFor(async () => (await http('GET', `/entitlements/${dying.elderId}`)).json()?.every((e: { state: string }) => e.state === 'ENDED'), 'the entitlements to end');

      const v = {
        c1: visit({ elderId: alive.elderId, providerId: provider, itemCode: 'CLEAN-1H', serviceDate: '2026-02-03', startedAt: '2026-02-03T01:00:00.000Z', endedAt: '2026-02-03T02:00:00.000Z' }),
        c2: visit({ elderId: alive.elderId, providerId: provider, itemCode: 'CLEAN-1H', serviceDate: '2026-02-03', startedAt: '2026-02-03T01:30:00.000Z', endedAt: '2026-02-03T02:30:00.000Z' }),
        m1: visit({ elderId: alive.elderId, providerId: provider, itemCode: `LUNCH-${suffix}`, category: 'MEALS', unit: 'PER_MEAL', serviceDate: '2026-02-04' }),
        m2: visit({ elderId: alive.elderId, providerId: provider, itemCode: `LUNCH-${suffix}`, category: 'MEALS', unit: 'PER_MEAL', serviceDate: '2026-02-05' }),
        dead: visit({ elderId: dying.elderId, providerId: provider, itemCode: 'CLEAN-1H', serviceDate: '2026-02-15' }),
      };
      for (const x of Object.values(v)) {
        await produce([verified(x)]);
        await chargeOf(x.visitId);
      }
      expect(await chargeOf(v.m1.visitId)).toMatchObject({ grossFen: 1_500, subsidyFen: 800, copayFen: 700, heldFen: 0 });
      expect(await chargeOf(v.m2.visitId)).toMatchObject({ grossFen: 1_500, subsidyFen: 800, copayFen: 700, heldFen: 800 });
      expect(await chargeOf(v.dead.visitId)).toMatchObject({ grossFen: 8_000, subsidyFen: 0, copayFen: 8_000 });
      await waitFor(() => sink.records.find((r) => r.type === 'billing.charge.held' && r.key === alive.elderId), 'ChargeHeld');
      const thresholds = await waitFor(() => {
        const got = sink.records.filter((r) => r.type === 'billing.budget.threshold-reached' && r.key === 'bud:PROVINCIAL:2026:130203001000');
        return got.length >= 2 ? got : null;
      }, 'both thresholds');
      expect(thresholds.map((r) => JSON.parse(r.value).payload.thresholdPercent).sort()).toEqual([100, 80]);

      // February: issue, approve.
      const issued = await http('POST', '/settlements', { month: '2026-02', providerId: provider });
      expect(issued.statusCode).toBe(201);
      expect(issued.json()[0]).toMatchObject({
        status: 'DRAFT',
        totals: { lineCount: 5, grossFen: 27_000, subsidyFen: 16_800, copayFen: 9_400, heldFen: 800, adjustmentSubsidyFen: 0, payableFen: 16_800 },
      });
      expect((await http('POST', `/settlements/${provider}/2026-02/approval`)).json()).toMatchObject({ status: 'APPROVED', totals: { payableFen: 16_800 } });

      // A February visit verified after approval goes on March's statement as an adjustment.
      const late = visit({ elderId: alive.elderId, providerId: provider, itemCode: 'CLEAN-1H', serviceDate: '2026-02-27' });
      await produce([verified(late)]);
      expect(await chargeOf(late.visitId)).toMatchObject({ settlementMonth: '2026-03', subsidyFen: 4_000, copayFen: 4_000 });
      const march = (await http('POST', '/settlements', { month: '2026-03', providerId: provider })).json()[0];
      expect(march.totals).toMatchObject({ lineCount: 1, grossFen: 0, subsidyFen: 0, adjustmentSubsidyFen: 4_000, adjustmentCopayFen: 4_000, payableFen: 4_000 });
      const feb = (await http('GET', `/settlements/${provider}/2026-02`)).json();
      expect(feb.totals.payableFen).toBe(16_800);

      const paid = await http('POST', `/settlements/${provider}/2026-02/payment`, { paymentReference: 'GK-2026-0301-17' });
      expect(paid.json()).toMatchObject({ status: 'PAID', paymentReference: 'GK-2026-0301-17' });
      const again = await http('POST', `/settlements/${provider}/2026-02/approval`);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'BILLING.STATEMENT_STATE' });
      const stmtEvents = await waitFor(() => {
        const got = sink.records.filter((r) => r.key === `stmt:${provider}:2026-02`).map((r) => r.type);
        return got.includes('billing.settlement.paid') ? got : null;
      }, 'statement events');
      expect(stmtEvents).toEqual(['billing.settlement.issued', 'billing.settlement.approved', 'billing.settlement.paid']);

      // Exports: one line per visit, zh-CN headers, yuan with two decimals.
      const csv = await http('GET', `/settlements/${provider}/2026-02/lines?format=csv`);
      expect(csv.headers['content-type']).toContain('text/csv');
      const rows = csv.body.replace(/^\uFEFF/, '').trim().split('\n');
      expect(rows[0]).toContain('服务记录号');
      expect(rows).toHaveLength(1 + 5 + 1);
      expect(rows.find((r) => r.startsWith(v.m2.visitId))).toContain(',15.00,15.00,0.00,7.00,8.00,正常'); // price, amount, subsidy paid (held), co-pay, held
      const xlsx = await http('GET', `/settlements/${provider}/2026-02/lines?format=xlsx`);
      const book = new ExcelJS.Workbook();
      await book.xlsx.load(xlsx.rawPayload as never);
      const sheet = book.worksheets[0];
      expect(sheet.rowCount).toBe(7);
      expect(sheet.getRow(1).getCell(1).value).toBe('服务记录号');

      // Utilisation and anomalies.
      const util = (await http('GET', '/budgets/utilisation?year=2026')).json();
      expect(util.byPolicy.find((r: { key: string }) => r.key === `MEAL-${suffix}`)).toMatchObject({ paidFen: 800, heldFen: 800 });
      const anomalies = (await http('GET', '/anomalies?month=2026-02')).json();
      const mine = anomalies.items.filter((a: { elderId?: string }) => a.elderId === alive.elderId || a.elderId === dying.elderId);
      expect(mine).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'OVERLAPPING_SERVICES', visitIds: [v.c1.visitId, v.c2.visitId] }),
          expect.objectContaining({ type: 'SERVICE_WHILE_DECEASED', elderId: dying.elderId, visitIds: [v.dead.visitId], since: '2026-02-10' }),
        ]),
      );
      expect(mine[0].links[0]).toMatchObject({ charge: expect.stringContaining('/api/v1/ledger/charges/') });
    } finally {
      await sink.stop();
    }
  });
});
