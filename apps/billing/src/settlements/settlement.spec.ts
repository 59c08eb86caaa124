import 'reflect-metadata';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BillingTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import ExcelJS from 'exceljs';
import type { Connection } from 'mongoose';
import { SERVICE } from '../service';
import { SettlementsService } from './settlements.service';
import { absenceEnded, absenceRecorded, admin, allowancePolicy, caregiverEvent, COUNTY, elderSnapshot, price, produce, registered, startGroupsAtEnd, statusChanged, testAppModule, verified, visit } from '../testing/support';

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

  it('pays a caregiver entry subsidy once and a skill allowance per month, through the provider\'s statement', async () => {
    const cgProvider = `cgprov-${suffix}`;
    const cert = '养老护理员职业技能等级证书';
    const base = { nameZh: '护理员补贴', nameEn: 'Caregiver subsidy', regionCode: COUNTY, effectiveFrom: '2026-01-01', funding: [{ fundSource: 'MUNICIPAL', sharePercent: 100 }] };
    expect((await http('POST', '/policies', { ...base, code: `CG-ENTRY-${suffix}`, benefit: { kind: 'CAREGIVER_SUBSIDY', subsidy: 'ENTRY', amountFen: 300_000 } })).statusCode).toBe(201);
    expect((await http('POST', '/policies', { ...base, code: `CG-SKILL-${suffix}`, benefit: { kind: 'CAREGIVER_SUBSIDY', subsidy: 'SKILL_ALLOWANCE', amountFen: 20_000, certification: cert } })).statusCode).toBe(201);
    expect((await http('PUT', '/budgets/MUNICIPAL/2026/130203000000', { allocatedFen: 10_000_000 })).statusCode).toBe(200);

    const certified = { caregiverId: `cg-${suffix}-a`, providerId: cgProvider, active: true, version: 1, certifications: [{ name: cert, number: 'HB-001', expiresOn: '2027-12-31' }] };
    const plain = { caregiverId: `cg-${suffix}-b`, providerId: cgProvider, active: true, version: 1 };
    const hired = caregiverEvent(certified, '2026-03-05');
    // Redelivered, and updated again in April: still one entry subsidy; one allowance per month.
    await produce([hired, hired, caregiverEvent(plain, '2026-03-20'), caregiverEvent({ ...certified, version: 2 }, '2026-04-02'), hired]);
    const journals = await waitFor(async () => {
      const res = await http('GET', `/ledger/caregiver-subsidies/${certified.caregiverId}`);
      const got = res.statusCode === 200 ? (res.json() as { _id: string; amountFen: number; serviceMonth: string; lines: unknown[] }[]) : [];
      return got.length >= 3 ? got : null;
    }, 'the caregiver subsidies');
    expect(journals.map((j) => [j._id, j.amountFen, j.serviceMonth])).toEqual([
      [`cgs:CG-ENTRY-${suffix}:${certified.caregiverId}`, 300_000, '2026-03'],
      [`cgs:CG-SKILL-${suffix}:${certified.caregiverId}:2026-03`, 20_000, '2026-03'],
      [`cgs:CG-SKILL-${suffix}:${certified.caregiverId}:2026-04`, 20_000, '2026-04'],
    ]);
    expect(journals[0].lines).toEqual([
      { account: `subsidy:CG-ENTRY-${suffix}`, debitFen: 300_000, creditFen: 0 },
      { account: `provider:${cgProvider}`, debitFen: 0, creditFen: 300_000 },
    ]);
    const others = (await http('GET', `/ledger/caregiver-subsidies/${plain.caregiverId}`)).json();
    expect(others.map((j: { _id: string }) => j._id)).toEqual([`cgs:CG-ENTRY-${suffix}:${plain.caregiverId}`]); // no certificate, no allowance

    // March's statement: two entry subsidies and one allowance; issuing twice adds nothing.
    await http('POST', '/settlements', { month: '2026-03', providerId: cgProvider });
    const march = (await http('POST', '/settlements', { month: '2026-03', providerId: cgProvider })).json()[0];
    expect(march.totals).toMatchObject({ lineCount: 3, caregiverSubsidyFen: 620_000, payableFen: 620_000, grossFen: 0 });
    const csv = (await http('GET', `/settlements/${cgProvider}/2026-03/lines?format=csv`)).body.replace(/^\uFEFF/, '').trim().split('\n');
    expect(csv).toHaveLength(1 + 3 + 1);
    expect(csv.filter((r) => r.endsWith(',护理员补贴'))).toHaveLength(3);
    // Issuing May posts May's allowance for the certified caregiver (the month's statement run).
    const may = (await http('POST', '/settlements', { month: '2026-05', providerId: cgProvider })).json()[0];
    expect(may.totals).toMatchObject({ lineCount: 1, caregiverSubsidyFen: 20_000 });
    const util = (await http('GET', '/budgets/utilisation?year=2026')).json();
    expect(util.byPolicy.find((r: { key: string }) => r.key === `CG-SKILL-${suffix}`)).toMatchObject({ paidFen: 60_000 });
  });

  it('lists services charged while the elder was in hospital as anomalies linked to the visits', async () => {
    const absentProvider = `absprov-${suffix}`;
    const elder = elderSnapshot();
    const absence = { absenceId: `abs-${suffix}`, elderId: elder.elderId, regionCode: elder.regionCode, kind: 'IN_HOSPITAL' as const, from: '2026-03-10T02:00:00.000Z', to: null, version: 1 };
    await produce([price(absentProvider, 'CLEAN-1H', 6_000, '2026-01-01'), registered(elder), absenceRecorded(absence), absenceEnded({ ...absence, to: '2026-03-15T00:00:00.000Z', version: 2 })]);
    // Billing knows the elder (granted the home-care allowance of the first test) before any visit.
    await waitFor(async () => (await http('GET', `/entitlements/${elder.elderId}`)).json()?.length >= 1, 'the elder');
    const during = visit({ elderId: elder.elderId, providerId: absentProvider, itemCode: 'CLEAN-1H', serviceDate: '2026-03-12', startedAt: '2026-03-12T01:00:00.000Z' });
    const after = visit({ elderId: elder.elderId, providerId: absentProvider, itemCode: 'CLEAN-1H', serviceDate: '2026-03-16', startedAt: '2026-03-16T01:00:00.000Z' });
    await produce([verified(during), verified(after)]);
    await chargeOf(during.visitId);
    await chargeOf(after.visitId);
    const anomalies = (await http('GET', '/anomalies?month=2026-03')).json();
    const mine = anomalies.items.filter((a: { elderId?: string }) => a.elderId === elder.elderId);
    expect(mine).toEqual([
      expect.objectContaining({ type: 'SERVICE_WHILE_IN_HOSPITAL', absenceId: absence.absenceId, from: absence.from, to: '2026-03-15T00:00:00.000Z', visitIds: [during.visitId] }),
    ]);
    expect(mine[0].links[0]).toMatchObject({ visitId: during.visitId, charge: `/api/v1/ledger/charges/${during.visitId}` });
  });

  it('counts journals stored before the running totals existed, once (boot backfill)', async () => {
    const settlements = app.get(SettlementsService);
    await settlements.backfilled;
    const oldProvider = `oldprov-${suffix}`;
    const ledger = app.get<Connection>(getConnectionToken()).collection('ledger');
    const old = { kind: 'CHARGE', elderId: 'eld-old', providerId: oldProvider, serviceMonth: '2026-06', settlementMonth: '2026-06', serviceDate: '2026-06-02', grossFen: 5_000, subsidyFen: 4_000, copayFen: 1_000, heldFen: 0, postedAt: new Date() };
    await ledger.insertMany([{ ...old, _id: `chg:old-${suffix}-1` }, { ...old, _id: `chg:old-${suffix}-2` }] as never);
    await settlements.aggregates.deleteOne({ _id: 'backfill:v1' });
    settlements.onApplicationBootstrap();
    await settlements.backfilled;
    settlements.onApplicationBootstrap(); // a second boot: the marker says done, nothing is counted again
    await settlements.backfilled;
    const june = (await http('POST', '/settlements', { month: '2026-06', providerId: oldProvider })).json()[0];
    expect(june.totals).toMatchObject({ lineCount: 2, grossFen: 10_000, subsidyFen: 8_000, copayFen: 2_000, payableFen: 8_000 });
  });
});
