import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';
import { ChargeHeld, ChargePosted, ChargeReversed, VisitApproved, VisitVerified, type PayloadOf, type VisitRecord } from '@yiyang/contracts';
import { regionWithin } from '@yiyang/geo';
import { Events, HandleEvent, OutboxRelay, isDuplicateKeyError, outboxFields, type EventContext, type OutboxEntry, type PendingEvent } from '@yiyang/messaging';
import { AppError, parseInput, type Principal } from '@yiyang/service-kit';
import { z } from 'zod';
import { BudgetsService } from '../budgets/budgets.service';
import { EntitlementsService, entitlementId, periodCovers, type Entitlement } from '../entitlements/entitlements.service';
import { coversItem, isElderBenefit, type Policy } from '../policies/domain/policy';
import { PoliciesService } from '../policies/policies.service';
import { priceOn, RegistryView } from '../registry-view/registry-view.service';
import { applyToAggregates, openMonthFor, type MonthAggregate } from '../settlements/aggregates';
import { monthOf, nextMonth } from '../shared/dates';
import { canSeeElder } from '../shared/elder-scope';
import { forbidden } from '../shared/scope';
import { AccountsService } from './accounts.service';
import { assertBalanced, fundShares, grossFen, orderOfApplication, perUnitSubsidy, reversingLines, type JournalLine } from './domain/split';
import { chargeIdOf, drawKey, reversalIdOf, type ChargePart, type Journal } from './journal';

const ReversalInput = z.object({ reason: z.string().trim().min(2).max(500) }).strict();

/**
 * Turns verified visits into charges. A visit is charged exactly once, whatever happens: the
 * journal's `_id` is `chg:<visitId>` (so VisitVerified and a later VisitApproved, redeliveries,
 * restarts and two replicas all meet the same unique key), every balance and budget reservation is
 * recorded under the same key (so a retry after a crash re-uses it), and the ChargePosted event is
 * written with the journal and copied into the elder's small outbox document right after (repaired on retry).
 */
@Injectable()
export class PostingsService implements OnModuleInit {
  private readonly statements: Collection<{ _id: string; status: string }>;
  private readonly aggregates: Collection<MonthAggregate>;
  private readonly outbox: Collection<{ _id: string; outbox: OutboxEntry[]; outboxPending: boolean; announced: string[] }>;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly view: RegistryView,
    private readonly policies: PoliciesService,
    private readonly entitlements: EntitlementsService,
    private readonly accounts: AccountsService,
    private readonly budgets: BudgetsService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.statements = connection.collection('statements') as never;
    this.outbox = connection.collection('ledger_outbox') as never;
    this.aggregates = connection.collection('settlement_aggregates') as never;
  }

  get ledger() {
    return this.accounts.ledger;
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.outbox as never);
  }

  /**
   * Copies a journal's events into its elder's outbox document, once (the journal id is remembered
   * there). Called after every insert and on every retry that finds the journal already stored, so a
   * crash between the two writes is repaired by redelivery and nothing is announced twice.
   */
  async announce(journal: Journal): Promise<void> {
    if (!journal.events?.length) return;
    try {
      await this.outbox.updateOne(
        { _id: `lob:${journal.outboxKey ?? journal.elderId}`, announced: { $ne: journal._id } } as never,
        { $push: { outbox: { $each: journal.events }, announced: journal._id }, $set: { outboxPending: true } } as never,
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error; // already announced: the upsert met the existing document
    }
    this.relay.nudge();
  }

  /**
   * Counts a stored journal on its provider's running statement totals, exactly once (the bucket
   * remembers the journal id in the same atomic update as the amounts). Called after every insert and
   * on every retry that finds the journal already stored, so a crash in between is repaired.
   */
  async countOnStatement(journal: Journal): Promise<void> {
    if (!journal.providerId) return;
    await applyToAggregates(this.aggregates, journal as never, journal.settlementMonth ?? journal.serviceMonth!);
  }

  @HandleEvent(VisitVerified, { group: 'visits' })
  async onVerified(p: PayloadOf<typeof VisitVerified>, ctx: EventContext): Promise<void> {
    await this.postVisit(p.visit, ctx.envelope.eventId, ctx.envelope.correlationId);
  }

  /** A flagged visit becomes billable only when approved; it is charged then, once. */
  @HandleEvent(VisitApproved, { group: 'visits' })
  async onApproved(p: PayloadOf<typeof VisitApproved>, ctx: EventContext): Promise<void> {
    await this.postVisit(p.visit, ctx.envelope.eventId, ctx.envelope.correlationId);
  }

  async postVisit(visit: VisitRecord, sourceEventId: string, correlationId: string): Promise<Journal> {
    const chargeId = chargeIdOf(visit.visitId);
    const key = drawKey(visit.visitId);
    const already = await this.ledger.findOne({ _id: chargeId });
    if (already) {
      await this.settleBudgets(already.parts ?? [], key);
      await this.countOnStatement(already);
      await this.announce(already);
      return already;
    }
    const elder = await this.view.elder(visit.elderId);
    // The registry's event may simply not have arrived yet: throwing retries with back-off.
    if (!elder) throw new AppError('BILLING.ELDER_UNKNOWN', 409, `Elder ${visit.elderId} not known to billing yet`, { messageZh: '计费服务尚未同步该老人信息' });
    const price = priceOn(await this.view.priceList(visit.providerId, visit.itemCode), visit.serviceDate);
    if (!price) {
      throw new AppError('BILLING.NO_PRICE', 422, `No price for ${visit.itemCode} at provider ${visit.providerId} on ${visit.serviceDate}`, {
        messageZh: `服务机构在 ${visit.serviceDate} 无该服务项目的价格`,
      });
    }
    const gross = grossFen(price.priceFen, visit.quantity);

    // 1. Policies in force on the visit date, paying for this item, covering the elder's region,
    //    with an entitlement valid on that date.
    const candidates: { policy: Policy; ent: Entitlement }[] = [];
    for (const policy of await this.policies.inForce(visit.serviceDate)) {
      if (!isElderBenefit(policy.benefit.kind) || !coversItem(policy, visit.itemCode, visit.category) || !regionWithin(elder.regionCode, policy.regionCode)) continue;
      const ent = await this.entitlements.entitlements.findOne({ _id: entitlementId(elder._id, policy.code) });
      if (ent && periodCovers(ent.periods, visit.serviceDate)) candidates.push({ policy, ent });
    }
    const ordered = orderOfApplication(
      candidates.map((c) => ({
        ...c,
        policyCode: c.policy.code,
        kind: c.policy.benefit.kind,
        priority: c.policy.priority,
        unusedBalance: c.policy.benefit.kind === 'MONTHLY_ALLOWANCE' ? c.policy.benefit.unusedBalance : undefined,
      })),
    );

    // 2. Draw in order of application until the gross is covered; what is left is co-payment.
    let remaining = gross;
    const draws: { policy: Policy; accountId: string; balanceId: string | null; takenFen: number }[] = [];
    for (const c of ordered) {
      if (remaining === 0) break;
      const b = c.policy.benefit;
      if (b.kind === 'PER_UNIT_SUBSIDY') {
        const takenFen = Math.min(perUnitSubsidy(price.priceFen, visit.quantity, b).subsidyFen, remaining);
        draws.push({ policy: c.policy, accountId: c.ent.accountId, balanceId: null, takenFen });
        remaining -= takenFen;
      } else {
        const { takenFen, balanceId } = await this.accounts.draw(c.policy, c.ent, visit.serviceDate, key, remaining, sourceEventId);
        draws.push({ policy: c.policy, accountId: c.ent.accountId, balanceId, takenFen });
        remaining -= takenFen;
      }
    }

    // 3. Each draw is funded by the policy's funds, by share; a share the budget cannot cover is held.
    const year = Number(visit.serviceDate.slice(0, 4));
    const parts: ChargePart[] = [];
    for (const d of draws.filter((x) => x.takenFen > 0)) {
      for (const share of fundShares(d.takenFen, d.policy.funding)) {
        if (share.amountFen === 0) continue;
        const budgetId = await this.budgets.budgetFor(share.fund.fundSource, year, elder.regionCode);
        const reservation = await this.budgets.reserve(budgetId, `${key}:${d.policy.code}`, share.amountFen);
        parts.push({
          policyId: d.policy._id, policyCode: d.policy.code, kind: d.policy.benefit.kind, accountId: d.accountId, balanceId: d.balanceId,
          fundSource: share.fund.fundSource, budgetId, amountFen: share.amountFen, held: reservation !== 'OK',
        });
      }
    }
    const subsidy = parts.reduce((s, p) => s + p.amountFen, 0);
    const held = parts.filter((p) => p.held).reduce((s, p) => s + p.amountFen, 0);
    const copay = gross - subsidy;

    // 4. The journal: the elder's benefit accounts and co-payment on the debit side, the provider
    //    (and, for held shares, the budget's suspense account) on the credit side.
    const lines: JournalLine[] = [];
    for (const d of draws.filter((x) => x.takenFen > 0)) {
      lines.push({ account: d.balanceId ? `benefit:${d.accountId}` : `subsidy:${d.policy.code}`, debitFen: d.takenFen, creditFen: 0 });
    }
    if (copay > 0) lines.push({ account: `copay:${elder._id}`, debitFen: copay, creditFen: 0 });
    lines.push({ account: `provider:${visit.providerId}`, debitFen: 0, creditFen: gross - held });
    const heldByBudget = new Map<string, number>();
    for (const p of parts.filter((x) => x.held)) heldByBudget.set(p.budgetId, (heldByBudget.get(p.budgetId) ?? 0) + p.amountFen);
    for (const [budgetId, amount] of heldByBudget) lines.push({ account: `held:${budgetId}`, debitFen: 0, creditFen: amount });
    assertBalanced(lines);

    const settlementMonth = await this.settlementMonthFor(visit.providerId, chargeId, monthOf(visit.serviceDate));
    const posted: PendingEvent[] = [
      this.events.create(ChargePosted, {
        key: elder._id,
        correlationId,
        causationId: sourceEventId,
        payload: {
          chargeId, sourceEventId, visitId: visit.visitId, orderId: visit.orderId, elderId: elder._id, providerId: visit.providerId, caregiverId: visit.caregiverId,
          itemCode: visit.itemCode, regionCode: elder.regionCode, serviceDate: visit.serviceDate, settlementMonth, quantity: visit.quantity,
          unitPriceFen: price.priceFen, grossFen: gross, subsidyFen: subsidy, copayFen: copay, heldFen: held,
          parts: parts.map((p) => ({ policyId: p.policyId, accountId: p.accountId, fundSource: p.fundSource, budgetId: p.budgetId, amountFen: p.amountFen })),
        },
      }),
      ...parts
        .filter((p) => p.held)
        .map((p) =>
          this.events.create(ChargeHeld, {
            key: elder._id,
            correlationId,
            causationId: sourceEventId,
            payload: { chargeId, visitId: visit.visitId, elderId: elder._id, providerId: visit.providerId, policyId: p.policyId, budgetId: p.budgetId, fundSource: p.fundSource, heldFen: p.amountFen, reason: 'BUDGET_EXHAUSTED' as const },
          }),
        ),
    ];
    const journal: Journal = {
      _id: chargeId, kind: 'CHARGE', sourceEventId, elderId: elder._id, regionCode: elder.regionCode, regionPath: elder.regionPath,
      accountIds: [...new Set(draws.filter((d) => d.balanceId).map((d) => d.accountId))],
      lines, postedAt: new Date(), eventId: posted[0].envelope.eventId, visitId: visit.visitId, orderId: visit.orderId, providerId: visit.providerId, caregiverId: visit.caregiverId,
      itemCode: visit.itemCode, category: visit.category, serviceDate: visit.serviceDate, serviceMonth: monthOf(visit.serviceDate),
      startedAt: visit.startedAt, endedAt: visit.endedAt, settlementMonth, quantity: visit.quantity, unitPriceFen: price.priceFen,
      grossFen: gross, subsidyFen: subsidy, copayFen: copay, heldFen: held, parts, events: outboxFields(posted).outbox,
    };
    try {
      await this.ledger.insertOne(journal);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Another replica or attempt posted it first; its journal is the one that counts.
      const winner = (await this.ledger.findOne({ _id: chargeId }))!;
      await this.settleBudgets(winner.parts ?? [], key);
      await this.countOnStatement(winner);
      await this.announce(winner);
      return winner;
    }
    await this.settleBudgets(parts, key);
    await this.countOnStatement(journal);
    await this.announce(journal);
    return journal;
  }

  async settleBudgets(parts: readonly ChargePart[], key: string): Promise<void> {
    for (const p of parts) if (!p.held) await this.budgets.settle(p.budgetId, `${key}:${p.policyCode}`, p.amountFen);
  }

  /**
   * The month whose statement a journal goes on: its service month, unless that month's statement
   * for the provider is already approved (its running totals closed) — then the first later month
   * still open, as an adjustment. `applyToAggregates` makes the final placement atomically; this is
   * the month the journal and its event announce (they differ only if an approval lands between the
   * two, within one write).
   */
  async settlementMonthFor(providerId: string, journalId: string, serviceMonth: string): Promise<string> {
    let month = serviceMonth;
    for (let i = 0; i < 24; i++) {
      const stmt = await this.statements.findOne({ _id: `stmt:${providerId}:${month}` }, { projection: { status: 1 } });
      if (!stmt || stmt.status === 'DRAFT') break;
      month = nextMonth(month);
    }
    return openMonthFor(this.aggregates, providerId, journalId, month);
  }

  /**
   * A correction: a reversing journal (lines swapped), never an edit. The elder's balances and the
   * budgets get their money back exactly once, even if the request is retried.
   */
  async reverse(principal: Principal, visitId: string, body: unknown, correlationId: string): Promise<Journal> {
    const { reason } = parseInput(ReversalInput, body);
    const charge = await this.ledger.findOne({ _id: chargeIdOf(visitId) });
    if (!charge || principal.role !== 'civil_affairs_admin' || !canSeeElder(principal, { _id: charge.elderId, regionPath: charge.regionPath })) {
      if (charge && principal.role !== 'civil_affairs_admin') throw forbidden();
      throw new AppError('BILLING.CHARGE_NOT_FOUND', 404, 'Charge not found', { messageZh: '未找到该笔费用' });
    }
    const key = drawKey(visitId);
    const reversalId = reversalIdOf(visitId);
    const settlementMonth = await this.settlementMonthFor(charge.providerId!, reversalId, charge.serviceMonth!);
    const event = this.events.create(ChargeReversed, {
      key: charge.elderId,
      correlationId,
      causationId: charge.sourceEventId,
      payload: {
        reversalId, chargeId: charge._id, visitId, elderId: charge.elderId, providerId: charge.providerId!, regionCode: charge.regionCode, serviceDate: charge.serviceDate!,
        settlementMonth, subsidyFen: charge.subsidyFen!, copayFen: charge.copayFen!, reason,
      },
    });
    const reversal: Journal = {
      ...charge, _id: reversalId, kind: 'REVERSAL', reverses: charge._id, reason, lines: reversingLines(charge.lines), postedAt: new Date(), eventId: event.envelope.eventId,
      settlementMonth, events: outboxFields([event]).outbox,
    };
    let stored = reversal;
    try {
      await this.ledger.insertOne(reversal);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      stored = (await this.ledger.findOne({ _id: reversalId }))!;
    }
    await this.countOnStatement(stored);
    await this.announce(stored);
    const byBalance = new Map<string, number>();
    for (const p of charge.parts ?? []) if (p.balanceId) byBalance.set(p.balanceId, (byBalance.get(p.balanceId) ?? 0) + p.amountFen);
    for (const [balanceId, amount] of byBalance) await this.accounts.giveBack(balanceId, key, amount);
    for (const p of charge.parts ?? []) {
      if (p.held) await this.budgets.unhold(p.budgetId, `${key}:${p.policyCode}`, p.amountFen);
      else await this.budgets.giveBack(p.budgetId, `${key}:${p.policyCode}`, p.amountFen);
    }
    return stored;
  }

  async charge(principal: Principal, visitId: string): Promise<{ charge: Journal; reversal: Journal | null }> {
    const charge = await this.ledger.findOne({ _id: chargeIdOf(visitId) }, { projection: { events: 0 } });
    const visible =
      charge &&
      (canSeeElder(principal, { _id: charge.elderId, regionPath: charge.regionPath }) || (principal.role === 'provider_operator' && principal.providerId === charge.providerId));
    if (!visible) throw new AppError('BILLING.CHARGE_NOT_FOUND', 404, 'Charge not found', { messageZh: '未找到该笔费用' });
    const reversal = await this.ledger.findOne({ _id: reversalIdOf(visitId) }, { projection: { events: 0 } });
    return { charge, reversal };
  }
}
