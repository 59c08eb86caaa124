import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { insertOnce, isDuplicateKeyError } from '@yiyang/messaging';
import { AppError, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { EntitlementsService, type Entitlement } from '../entitlements/entitlements.service';
import type { Policy } from '../policies/domain/policy';
import { PoliciesService } from '../policies/policies.service';
import { monthOf, nextMonth, todayInChina } from '../shared/dates';
import type { Journal } from './journal';

/**
 * The spendable balance of one account for one period, kept so that a draw can be checked and
 * taken in ONE atomic conditional update (no multi-document transactions): `remainingFen` never
 * goes below zero, and each draw is recorded under its charge key so a retried charge gets the
 * same amount back instead of drawing twice. It is a guard, not the record: balances shown to people
 * are summed from the ledger, and the two must always agree (the replay test checks it).
 */
export interface BalanceDoc {
  _id: string;
  accountId: string;
  period: string;
  remainingFen: number;
  credits: Record<string, number>;
  draws: Record<string, number>;
  reversed?: Record<string, number>;
}

export const periodOf = (policy: Policy, serviceDate: string): string =>
  policy.benefit.kind === 'MONTHLY_ALLOWANCE' && policy.benefit.unusedBalance === 'LAPSE' ? monthOf(serviceDate) : 'ALL';

@Injectable()
export class AccountsService implements OnModuleInit {
  readonly balances: Collection<BalanceDoc>;
  readonly ledger: Collection<Journal>;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly policies: PoliciesService,
    private readonly entitlements: EntitlementsService,
  ) {
    this.balances = connection.collection('balances') as never;
    this.ledger = connection.collection('ledger') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.balances.createIndex({ accountId: 1 });
  }

  /**
   * Draws up to `wantFen` from the account for the period of `serviceDate`; returns what was taken
   * (0…want). Insufficient balance takes what is there — never below zero.
   */
  async draw(policy: Policy, ent: Entitlement, serviceDate: string, key: string, wantFen: number, sourceEventId: string): Promise<{ takenFen: number; balanceId: string }> {
    const period = periodOf(policy, serviceDate);
    const balanceId = `bal:${ent.accountId}:${period}`;
    await this.ensureCredited(policy, ent, serviceDate, period, balanceId, sourceEventId);
    for (let attempt = 0; attempt < 20; attempt++) {
      const doc = await this.balances.findOne({ _id: balanceId });
      if (!doc) throw new Error(`balance ${balanceId} missing after crediting`);
      const earlier = doc.draws?.[key];
      if (earlier !== undefined) return { takenFen: earlier, balanceId };
      const take = Math.min(wantFen, doc.remainingFen);
      const res = await this.balances.updateOne(
        { _id: balanceId, remainingFen: doc.remainingFen, [`draws.${key}`]: { $exists: false } } as never,
        { $inc: { remainingFen: -take }, $set: { [`draws.${key}`]: take } } as never,
      );
      if (res.matchedCount === 1) return { takenFen: take, balanceId };
    }
    throw new AppError('BILLING.CONCURRENT_UPDATE', 409, `Balance ${balanceId} kept changing`, { messageZh: '余额并发修改，请重试' });
  }

  /** Gives a reversed draw back to its balance, once. */
  async giveBack(balanceId: string, key: string, amountFen: number): Promise<void> {
    await this.balances.updateOne(
      { _id: balanceId, [`reversed.${key}`]: { $exists: false } } as never,
      { $inc: { remainingFen: amountFen }, $set: { [`reversed.${key}`]: amountFen } } as never,
    );
  }

  /**
   * Credits the allowance or grant for the period (and, for carry-over, every earlier entitled month
   * not yet credited): first the credit journal (deterministic id), then the balance — each step
   * idempotent, so a crash between them is repaired by the retry.
   */
  private async ensureCredited(policy: Policy, ent: Entitlement, serviceDate: string, period: string, balanceId: string, sourceEventId: string): Promise<void> {
    const b = policy.benefit;
    if (b.kind !== 'MONTHLY_ALLOWANCE' && b.kind !== 'ONE_OFF_GRANT') throw new Error(`${policy.code} has no balance`);
    const credits: { label: string; amountFen: number }[] = [];
    if (b.kind === 'ONE_OFF_GRANT') credits.push({ label: 'ONCE', amountFen: b.amountFen });
    else if (b.unusedBalance === 'LAPSE') credits.push({ label: period, amountFen: b.amountFen });
    else {
      const last = monthOf(serviceDate);
      const first = ent.periods.reduce((m, p) => (p.from < m ? p.from : m), serviceDate).slice(0, 7);
      const existing = await this.balances.findOne({ _id: balanceId }, { projection: { credits: 1 } });
      for (let m = first, n = 0; m <= last && n < 240; m = nextMonth(m), n++) {
        if (existing?.credits?.[m] !== undefined) continue;
        const entitledInMonth = ent.periods.some((p) => p.from.slice(0, 7) <= m && (p.to === null || p.to.slice(0, 7) >= m));
        if (!entitledInMonth) continue;
        const version = (await this.policies.all()).find((v) => v.code === policy.code && v.effectiveFrom.slice(0, 7) <= m && (v.effectiveTo === null || v.effectiveTo.slice(0, 7) >= m));
        const amount = version && version.benefit.kind === 'MONTHLY_ALLOWANCE' ? version.benefit.amountFen : 0;
        if (amount > 0) credits.push({ label: m, amountFen: amount });
      }
    }
    for (const c of credits) {
      await insertOnce(this.ledger as never, {
        _id: `crd:${ent.accountId}:${c.label}`,
        kind: 'CREDIT',
        sourceEventId,
        elderId: ent.elderId,
        regionCode: ent.regionCode,
        regionPath: ent.regionPath,
        accountIds: [ent.accountId],
        policyCode: policy.code,
        period: c.label,
        amountFen: c.amountFen,
        lines: [
          { account: `allowance:${policy.code}`, debitFen: c.amountFen, creditFen: 0 },
          { account: `benefit:${ent.accountId}`, debitFen: 0, creditFen: c.amountFen },
        ],
        postedAt: new Date(),
      } satisfies Journal);
      try {
        await this.balances.updateOne(
          { _id: balanceId, [`credits.${c.label}`]: { $exists: false } } as never,
          { $inc: { remainingFen: c.amountFen }, $set: { accountId: ent.accountId, period, [`credits.${c.label}`]: c.amountFen } } as never,
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // already credited (the upsert met the existing document)
      }
    }
  }

  /** Balances of an elder's accounts, summed from the ledger (credits − draws + reversals), per period. */
  async forElder(principal: Principal, elderId: string) {
    await this.entitlements.requireElder(principal, elderId);
    const ents = await this.entitlements.entitlements.find({ elderId }, { projection: { outbox: 0 } }).toArray();
    const accountIds = ents.map((e) => e.accountId);
    const journals = accountIds.length ? await this.ledger.find({ accountIds: { $in: accountIds } }, { projection: { events: 0 } }).toArray() : [];
    const policies = await this.policies.all();
    const thisMonth = monthOf(todayInChina());
    return ents.map((ent) => {
      const policy = policies.filter((p) => p.code === ent.policyCode).sort((a, b) => b.version - a.version)[0];
      const lapse = policy?.benefit.kind === 'MONTHLY_ALLOWANCE' && policy.benefit.unusedBalance === 'LAPSE';
      const byPeriod = new Map<string, { creditedFen: number; drawnFen: number; reversedFen: number }>();
      let balance = 0;
      for (const j of journals) {
        for (const l of j.lines) {
          if (l.account !== `benefit:${ent.accountId}`) continue;
          balance += l.creditFen - l.debitFen;
          const period = lapse ? (j.kind === 'CREDIT' ? j.period! : j.serviceMonth!) : 'ALL';
          const row = byPeriod.get(period) ?? { creditedFen: 0, drawnFen: 0, reversedFen: 0 };
          if (j.kind === 'CREDIT') row.creditedFen += l.creditFen;
          else if (j.kind === 'CHARGE') row.drawnFen += l.debitFen;
          else row.reversedFen += l.creditFen;
          byPeriod.set(period, row);
        }
      }
      const periods = [...byPeriod].sort(([a], [b]) => (a < b ? -1 : 1)).map(([period, r]) => {
        const remaining = r.creditedFen - r.drawnFen + r.reversedFen;
        return { period, ...r, remainingFen: remaining, lapsedFen: lapse && period < thisMonth ? remaining : 0 };
      });
      const availableFen = lapse ? (periods.find((p) => p.period === thisMonth)?.remainingFen ?? null) : balance;
      return {
        accountId: ent.accountId,
        policyCode: ent.policyCode,
        benefitKind: ent.benefitKind,
        entitlement: { state: ent.state, periods: ent.periods },
        unusedBalance: lapse ? 'LAPSE' : policy?.benefit.kind === 'MONTHLY_ALLOWANCE' ? 'CARRY_OVER' : null,
        ledgerBalanceFen: balance,
        /** Spendable now: this month's remainder for a lapsing allowance (null until first credited this month). */
        availableFen,
        periods,
      };
    });
  }
}
