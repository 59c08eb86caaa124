import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BillingTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import { MongoClient } from 'mongodb';
import type { Connection } from 'mongoose';
import { BudgetsService } from '../budgets/budgets.service';
import { EntitlementsService, entitlementId } from '../entitlements/entitlements.service';
import { PoliciesService } from '../policies/policies.service';
import { SERVICE } from '../service';
import { admin, allowancePolicy, approved, elderSnapshot, price, produce, registered, startGroupsAtEnd, testAppModule, verified, visit } from '../testing/support';
import { AccountsService } from './accounts.service';
import { drawKey } from './journal';

jest.setTimeout(240_000);

const repoRoot = path.resolve(__dirname, '../../../..');
const t0 = Date.now();
/** Progress on stderr (a slow step on the shared machine is then visible in the CI log). */
const step = (what: string) => process.stderr.write(`exactly-once +${((Date.now() - t0) / 1000).toFixed(1)}s ${what}\n`);

/** Starts the billing service in a child process (same database and consumer groups); resolves once it consumes. */
function spawnBilling(children: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, '../testing/billing-child.ts')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SWC_NODE_PROJECT: path.join(repoRoot, 'tsconfig.base.json'), LOG_LEVEL: 'error' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('READY')) resolve(child);
    });
    child.on('exit', (code, signal) => reject(new Error(`billing child exited (${code ?? signal}) before it was ready`)));
  });
}

/**
 * The promise users trust: every verified visit is charged exactly once. Every event is delivered
 * twice (and some visits a third time under a new event id, as a producer retry would), the service
 * process consuming them is killed with SIGKILL in the middle of its batch (no shutdown hook runs,
 * whatever write was in flight is cut), a charge is left half-done as a crash would leave it, and two
 * replicas then finish the work on the same database and consumer group.
 */
describe('exactly-once charging under redelivery, a SIGKILL mid-batch and two replicas (real Kafka + database)', () => {
  const suffix = uniqueSuffix().toUpperCase();
  const provider = `prov-${suffix}`;
  const ELDERS = 4;
  const VISITS = 15; // per elder: 15 × 3,000 fen = 45,000 > the 20,000 allowance
  const apps: NestFastifyApplication[] = [];
  const children: ChildProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  const boot = async () => {
    const app = await bootTestApp(testAppModule(), SERVICE);
    apps.push(app);
    return app;
  };
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const app of apps) await app.close().catch(() => undefined);
    for (const close of closers) await close().catch(() => undefined);
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
    step('entitlements granted');

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
      // The in-process instance hands over to the service in a child process, which does the work.
      const client = await MongoClient.connect(process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/');
      closers.push(() => client.close());
      const ledger = client.db(process.env['MONGO_DB']).collection('ledger');
      const mine = { elderId: { $in: elders.map((e) => e.elderId) } };
      await first.close();
      apps.splice(apps.indexOf(first), 1);
      const child = await spawnBilling(children);
      step('billing child ready');

      const redelivered = visits.filter((_, i) => i % 7 === 3).map((v) => verified(v)); // same visit, new event id
      await produce([...events, ...events, ...redelivered]);
      step('visit events produced');

      // SIGKILL the service while it is in the middle of its batch.
      await waitFor(async () => (await ledger.countDocuments({ ...mine, kind: 'CHARGE' })) >= 10, 'some charges', 90_000);
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const midway = await ledger.countDocuments({ ...mine, kind: 'CHARGE' });
      step(`billing child SIGKILLed with ${midway} of ${ELDERS * VISITS} charges stored`);

      // Two replicas finish on the same database and consumer groups.
      const [a, b] = await Promise.all([boot(), boot()]);
      const db = a.get<Connection>(getConnectionToken());
      step('two replicas booted');
      await waitFor(async () => (await db.collection('ledger').countDocuments({ ...mine, kind: 'CHARGE' })) === ELDERS * VISITS, 'every charge', 120_000);
      expect(midway).toBeLessThan(ELDERS * VISITS);
      step('every charge stored');

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
      // The provider's running statement totals counted every charge exactly once.
      const buckets = await db.collection('settlement_aggregates').find({ providerId: provider }).toArray();
      const applied = buckets.flatMap((x) => x['applied'] as string[]);
      expect(applied).toHaveLength(ELDERS * VISITS);
      expect(new Set(applied).size).toBe(ELDERS * VISITS);
      const statement = (await http(b, 'POST', '/settlements', { month: '2026-02', providerId: provider })).json()[0];
      expect(statement.totals).toMatchObject({ lineCount: ELDERS * VISITS, grossFen: ELDERS * VISITS * 3_000, subsidyFen: ELDERS * 20_000, copayFen: ELDERS * (VISITS * 3_000 - 20_000) });
    } finally {
      await sink.stop();
    }
  });
});
