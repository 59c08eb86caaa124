import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CaregiverSubsidyPosted } from '@yiyang/contracts';
import { regionPath, regionWithin } from '@yiyang/geo';
import { Events, isDuplicateKeyError, outboxFields, type EventContext } from '@yiyang/messaging';
import { AppError, type Principal } from '@yiyang/service-kit';
import { BudgetsService } from '../budgets/budgets.service';
import { assertBalanced, fundShares, type JournalLine } from '../ledger/domain/split';
import { caregiverSubsidyIdOf, drawKey, type ChargePart, type Journal } from '../ledger/journal';
import { PostingsService } from '../ledger/postings.service';
import { policyInForce, type Policy } from '../policies/domain/policy';
import { PoliciesService } from '../policies/policies.service';
import { RegistryView, type CaregiverView } from '../registry-view/registry-view.service';
import { addDays, monthOf, nextMonth, todayInChina } from '../shared/dates';

type CaregiverPolicy = Policy & { benefit: Extract<Policy['benefit'], { kind: 'CAREGIVER_SUBSIDY' }> };
const isCaregiverPolicy = (p: Policy): p is CaregiverPolicy => p.benefit.kind === 'CAREGIVER_SUBSIDY';

/** Does the caregiver hold the policy's certificate (any certificate if the policy names none), valid on `date`? */
export function holdsCertificate(c: Pick<CaregiverView, 'certifications'>, certification: string | undefined, date: string): boolean {
  // A level-qualified title ("养老护理员职业技能等级证书（四级/中级工）") is the named certificate.
  return c.certifications.some((x) => (!certification || x.name.startsWith(certification)) && x.expiresOn >= date);
}

/** The last day of a month (yyyy-mm-dd). */
const lastDayOf = (month: string) => addDays(`${nextMonth(month)}-01`, -1);

/**
 * Caregiver entry subsidies and skill allowances, from the registry's caregiver events, paid through
 * the caregiver's provider on its monthly statement:
 * - ENTRY: once per caregiver and policy code (journal `cgs:<code>:<caregiver>`), for the month the
 *   caregiver was first seen active (hired/activated), if a version of the policy covering the
 *   caregiver's region was in force on that date.
 * - SKILL_ALLOWANCE: once per caregiver, policy code and month (`cgs:<code>:<caregiver>:<month>`) for
 *   every month in which the caregiver is active, started on or before the month's last day, and holds
 *   the policy's certificate valid on the month's first day. Posted when a caregiver event arrives
 *   (for that month) and for every caregiver when the month's statements are issued.
 * The deterministic journal id under the unique `_id` makes both exactly-once; funds are reserved on
 * the policy's budgets as charges are (a share that does not fit is held), and the journal is counted
 * on the provider's running statement totals like any charge.
 */
@Injectable()
export class CaregiverSubsidiesService implements OnModuleInit {
  constructor(
    private readonly view: RegistryView,
    private readonly policies: PoliciesService,
    private readonly budgets: BudgetsService,
    private readonly postings: PostingsService,
    private readonly events: Events,
  ) {}

  async onModuleInit(): Promise<void> {
    this.view.onCaregiverChanged((c, on, ctx) => this.onCaregiver(c, on, ctx));
    this.policies.onPolicyChanged((policy, change) => (change === 'created' && isCaregiverPolicy(policy) ? this.onPolicyCreated(policy) : Promise.resolve()));
    await this.postings.ledger.createIndex({ caregiverId: 1 });
  }

  /** A caregiver's subsidy journals, for the bureau (in region), the caregiver's provider, or the caregiver. */
  async forCaregiver(principal: Principal, caregiverId: string): Promise<Journal[]> {
    const c = await this.view.caregivers.findOne({ _id: caregiverId });
    const visible =
      c &&
      (((principal.role === 'civil_affairs_admin' || principal.role === 'auditor') && !!principal.regionCode && regionWithin(c.regionCode, principal.regionCode)) ||
        (principal.role === 'provider_operator' && principal.providerId === c.providerId) ||
        (principal.role === 'caregiver' && principal.caregiverId === c._id));
    if (!visible) throw new AppError('BILLING.CAREGIVER_NOT_FOUND', 404, 'Caregiver not found', { messageZh: '未找到该护理员' });
    const journals = await this.postings.ledger.find({ caregiverId, kind: 'CAREGIVER_SUBSIDY' }, { projection: { events: 0 } }).toArray();
    return journals.sort((a, b) => (a._id < b._id ? -1 : 1));
  }

  private async policiesFor(c: CaregiverView, date: string, subsidy: 'ENTRY' | 'SKILL_ALLOWANCE'): Promise<CaregiverPolicy[]> {
    return (await this.policies.all()).filter((p): p is CaregiverPolicy => isCaregiverPolicy(p) && p.benefit.subsidy === subsidy && policyInForce(p, date) && regionWithin(c.regionCode, p.regionCode));
  }

  /** A new caregiver policy (or version) pays caregivers already known: entry subsidies, and this month's allowance. */
  private async onPolicyCreated(policy: CaregiverPolicy): Promise<void> {
    const month = monthOf(todayInChina());
    for await (const c of this.view.caregivers.find({})) {
      if (!c.providerId || !c.activatedOn || !regionWithin(c.regionCode, policy.regionCode)) continue;
      if (policy.benefit.subsidy === 'ENTRY' && policyInForce(policy, c.activatedOn)) {
        await this.post(policy, c, monthOf(c.activatedOn), caregiverSubsidyIdOf(policy.code, c._id), `policy:${policy._id}`, `policy:${policy._id}`);
      }
      if (policy.benefit.subsidy === 'SKILL_ALLOWANCE') await this.allowancesFor(c, month, `policy:${policy._id}`, `policy:${policy._id}`);
    }
  }

  async onCaregiver(c: CaregiverView, on: string, ctx: EventContext): Promise<void> {
    if (!c.providerId) return;
    if (c.activatedOn) {
      for (const p of await this.policiesFor(c, c.activatedOn, 'ENTRY')) {
        await this.post(p, c, monthOf(c.activatedOn), caregiverSubsidyIdOf(p.code, c._id), ctx.envelope.eventId, ctx.envelope.correlationId);
      }
    }
    await this.allowancesFor(c, monthOf(on), ctx.envelope.eventId, ctx.envelope.correlationId);
  }

  /** Skill allowances of one month for every known caregiver (idempotent; run when statements are issued). */
  async postMonth(month: string, correlationId: string, providerId?: string): Promise<number> {
    let posted = 0;
    for (const c of await this.view.caregivers.find(providerId ? { providerId } : {}).toArray()) posted += await this.allowancesFor(c, month, `statement-issue:${month}`, correlationId);
    return posted;
  }

  private async allowancesFor(c: CaregiverView, month: string, sourceEventId: string, correlationId: string): Promise<number> {
    const first = `${month}-01`;
    if (!c.active || !c.providerId || !c.activatedOn || c.activatedOn > lastDayOf(month)) return 0;
    let posted = 0;
    for (const p of await this.policiesFor(c, first, 'SKILL_ALLOWANCE')) {
      if (!holdsCertificate(c, p.benefit.certification, first)) continue;
      await this.post(p, c, month, caregiverSubsidyIdOf(p.code, c._id, month), sourceEventId, correlationId);
      posted++;
    }
    return posted;
  }

  /** Posts one subsidy journal exactly once (repairs the follow-up steps if it is already stored). */
  private async post(policy: CaregiverPolicy, c: CaregiverView, month: string, journalId: string, sourceEventId: string, correlationId: string): Promise<Journal> {
    const key = drawKey(journalId);
    const existing = await this.postings.ledger.findOne({ _id: journalId });
    if (existing) return this.finish(existing, key);
    const amount = policy.benefit.amountFen;
    const year = Number(month.slice(0, 4));
    const parts: ChargePart[] = [];
    for (const share of fundShares(amount, policy.funding)) {
      if (share.amountFen === 0) continue;
      const budgetId = await this.budgets.budgetFor(share.fund.fundSource, year, c.regionCode);
      const reservation = await this.budgets.reserve(budgetId, `${key}:${policy.code}`, share.amountFen);
      parts.push({
        policyId: policy._id, policyCode: policy.code, kind: policy.benefit.kind, accountId: `caregiver:${c._id}`, balanceId: null,
        fundSource: share.fund.fundSource, budgetId, amountFen: share.amountFen, held: reservation !== 'OK',
      });
    }
    const held = parts.filter((p) => p.held).reduce((s, p) => s + p.amountFen, 0);
    const lines: JournalLine[] = [
      { account: `subsidy:${policy.code}`, debitFen: amount, creditFen: 0 },
      { account: `provider:${c.providerId}`, debitFen: 0, creditFen: amount - held },
    ];
    const heldByBudget = new Map<string, number>();
    for (const p of parts.filter((x) => x.held)) heldByBudget.set(p.budgetId, (heldByBudget.get(p.budgetId) ?? 0) + p.amountFen);
    for (const [budgetId, fen] of heldByBudget) lines.push({ account: `held:${budgetId}`, debitFen: 0, creditFen: fen });
    assertBalanced(lines.filter((l) => l.debitFen > 0 || l.creditFen > 0));
    const settlementMonth = await this.postings.settlementMonthFor(c.providerId, journalId, month);
    const event = this.events.create(CaregiverSubsidyPosted, {
      key: c._id,
      correlationId,
      payload: {
        journalId, caregiverId: c._id, providerId: c.providerId, regionCode: c.regionCode, policyId: policy._id, subsidy: policy.benefit.subsidy, month, settlementMonth,
        amountFen: amount, heldFen: held, parts: parts.map((p) => ({ policyId: p.policyId, accountId: p.accountId, fundSource: p.fundSource, budgetId: p.budgetId, amountFen: p.amountFen })),
      },
    });
    const journal: Journal = {
      _id: journalId, kind: 'CAREGIVER_SUBSIDY', sourceEventId, elderId: '', regionCode: c.regionCode, regionPath: regionPath(c.regionCode), accountIds: [],
      lines: lines.filter((l) => l.debitFen > 0 || l.creditFen > 0), postedAt: new Date(), eventId: event.envelope.eventId,
      providerId: c.providerId, caregiverId: c._id, policyCode: policy.code, serviceDate: policy.benefit.subsidy === 'ENTRY' ? c.activatedOn! : `${month}-01`,
      serviceMonth: month, settlementMonth, amountFen: amount, heldFen: held, parts, events: outboxFields([event]).outbox, outboxKey: `cg:${c._id}`,
    };
    try {
      await this.postings.ledger.insertOne(journal);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return this.finish((await this.postings.ledger.findOne({ _id: journalId }))!, key);
    }
    return this.finish(journal, key);
  }

  private async finish(journal: Journal, key: string): Promise<Journal> {
    await this.postings.settleBudgets(journal.parts ?? [], key);
    await this.postings.countOnStatement(journal);
    await this.postings.announce(journal);
    return journal;
  }
}
