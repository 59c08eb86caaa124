import { createHash } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { EntitlementEnded, EntitlementGranted } from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type EventContext, type OutboxEntry } from '@yiyang/messaging';
import { AppError, parseInput, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { dateReachingAge, evaluateEligibility, type RuleOutcome } from '../policies/domain/eligibility';
import { isElderBenefit, policyInForce, type Policy } from '../policies/domain/policy';
import { PoliciesService } from '../policies/policies.service';
import { RegistryView, type ElderFacts } from '../registry-view/registry-view.service';
import { addDays, IsoDateRegex, todayInChina } from '../shared/dates';
import { canSeeElder, elderScopeFilter } from '../shared/elder-scope';

export interface EntitlementPeriod {
  from: string;
  /** Inclusive; null while open. */
  to: string | null;
}

export interface Entitlement {
  _id: string;
  elderId: string;
  policyCode: string;
  benefitKind: Policy['benefit']['kind'];
  accountId: string;
  regionCode: string;
  regionPath: string[];
  state: 'GRANTED' | 'ENDED';
  periods: EntitlementPeriod[];
  reasons: string[];
  version: number;
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

export const entitlementId = (elderId: string, policyCode: string) => `ent:${elderId}:${policyCode}`;

/** One account per elder per policy; a per-household grant has one account per household. */
export function accountIdFor(policy: Pick<Policy, 'code' | 'benefit'>, elder: Pick<ElderFacts, '_id' | 'householdKey'>): string {
  if (policy.benefit.kind === 'ONE_OFF_GRANT' && policy.benefit.per === 'HOUSEHOLD') {
    return `acct:hh-${createHash('sha256').update(elder.householdKey).digest('hex').slice(0, 16)}:${policy.code}`;
  }
  return `acct:${elder._id}:${policy.code}`;
}

export function periodCovers(periods: readonly EntitlementPeriod[], date: string): boolean {
  return periods.some((p) => p.from <= date && (p.to === null || date <= p.to));
}

const ExplainQuery = z.object({ on: z.string().regex(IsoDateRegex, 'must be a date yyyy-mm-dd').optional() });

/**
 * Entitlements follow the registry: whenever an elder's facts change (registered, assessed,
 * categories or status changed) every elder-benefit policy is re-evaluated on the date the change
 * takes effect, and the entitlement is granted from that date or ended the day before it. A policy
 * created or withdrawn re-evaluates every known elder. Each change is one atomic write of the
 * entitlement with its event (outbox).
 */
@Injectable()
export class EntitlementsService implements OnModuleInit {
  readonly entitlements: Collection<Entitlement>;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly view: RegistryView,
    private readonly policies: PoliciesService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.entitlements = connection.collection('entitlements') as never;
    view.onElderChanged((elder, effectiveOn, ctx) => this.reevaluate(elder, effectiveOn, ctx));
    policies.onPolicyChanged((policy, change) => this.onPolicy(policy, change));
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.entitlements as never);
    await this.entitlements.createIndex({ elderId: 1 });
  }

  /** Re-evaluates every elder-benefit policy for one elder as of `onDate`. */
  async reevaluate(elder: ElderFacts, onDate: string, ctx?: EventContext): Promise<void> {
    const byCode = new Map<string, Policy[]>();
    for (const p of await this.policies.all()) {
      if (p.status === 'ACTIVE' && isElderBenefit(p.benefit.kind)) byCode.set(p.code, [...(byCode.get(p.code) ?? []), p]);
    }
    for (const versions of byCode.values()) await this.reevaluateOne(elder, versions, onDate, ctx);
  }

  private async onPolicy(policy: Policy, change: 'created' | 'withdrawn'): Promise<void> {
    if (!isElderBenefit(policy.benefit.kind)) return;
    const versions = (await this.policies.all()).filter((p) => p.code === policy.code && p.status === 'ACTIVE');
    const cursor = this.view.elders.find({});
    for await (const elder of cursor) {
      // A new policy (or version) is judged from the day it starts; a withdrawal ends grants after its last day.
      const onDate = change === 'withdrawn' && policy.effectiveTo ? addDays(policy.effectiveTo, 1) : policy.effectiveFrom;
      await this.reevaluateOne(elder, versions, onDate);
    }
  }

  /** What the versions of one policy code say about an elder on a date: eligible from when, or why not. */
  decide(elder: ElderFacts, versions: readonly Policy[], onDate: string): { policy: Policy | null; eligibleFrom: string | null; rules: RuleOutcome[] } {
    const current = versions.find((v) => policyInForce(v, onDate));
    const next = versions.filter((v) => v.effectiveFrom > onDate).sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? -1 : 1))[0];
    const policy = current ?? next ?? null;
    if (!policy) return { policy: null, eligibleFrom: null, rules: [] };
    const judgedOn = current ? onDate : policy.effectiveFrom;
    const result = evaluateEligibility(policy.regionCode, policy.eligibility, elder, judgedOn);
    if (result.eligible) return { policy, eligibleFrom: judgedOn, rules: result.rules };
    // Only too young: eligible from the birthday that reaches the minimum age (and nothing else changes by then).
    const failing = result.rules.filter((r) => !r.met);
    if (failing.length === 1 && failing[0].rule === 'minAge' && policy.eligibility.minAge !== undefined) {
      const from = dateReachingAge(elder.birthDate, policy.eligibility.minAge, judgedOn);
      if (policy.effectiveTo === null || from <= policy.effectiveTo) return { policy, eligibleFrom: from, rules: result.rules };
    }
    return { policy, eligibleFrom: null, rules: result.rules };
  }

  private async reevaluateOne(elder: ElderFacts, versions: readonly Policy[], onDate: string, ctx?: EventContext): Promise<void> {
    const { policy, eligibleFrom, rules } = this.decide(elder, versions, onDate);
    const code = versions[0].code;
    const _id = entitlementId(elder._id, code);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.entitlements.findOne({ _id });
      const open = existing?.periods.find((p) => p.to === null);
      const reasonsZh = rules.map((r) => `${r.met ? '✓' : '✗'} ${r.zh}`);
      const correlationId = ctx?.envelope.correlationId ?? `policy:${code}`;
      const causationId = ctx?.envelope.eventId ?? null;
      if (policy && eligibleFrom) {
        if (open) return; // already granted
        const accountId = accountIdFor(policy, elder);
        const event = this.events.create(EntitlementGranted, {
          key: elder._id,
          correlationId,
          causationId,
          payload: {
            entitlementId: _id,
            elderId: elder._id,
            policyId: policy._id,
            policyVersion: policy.version,
            benefitKind: policy.benefit.kind as never,
            regionCode: elder.regionCode,
            validFrom: eligibleFrom,
            accountId,
            reasons: reasonsZh,
          },
        });
        const period = { from: eligibleFrom, to: null };
        if (!existing) {
          const doc: Entitlement = {
            _id, elderId: elder._id, policyCode: code, benefitKind: policy.benefit.kind, accountId, regionCode: elder.regionCode,
            regionPath: elder.regionPath, state: 'GRANTED', periods: [period], reasons: reasonsZh, version: 1, ...outboxFields([event]),
          };
          try {
            await this.entitlements.insertOne(doc);
          } catch (error) {
            if (isDuplicateKeyError(error)) continue; // a concurrent evaluation won; look again
            throw error;
          }
        } else {
          // A re-grant after an end: a new period; a grant dated before the last end starts the day after it.
          const lastEnd = existing.periods.reduce((m, p) => (p.to && p.to > m ? p.to : m), '');
          if (lastEnd && period.from <= lastEnd) period.from = addDays(lastEnd, 1);
          const res = await this.entitlements.updateOne(
            { _id, version: existing.version },
            withOutbox({ $set: { state: 'GRANTED', reasons: reasonsZh, regionCode: elder.regionCode, regionPath: elder.regionPath, version: existing.version + 1 }, $push: { periods: period } }, [event]) as never,
          );
          if (res.matchedCount === 0) continue;
        }
        this.relay.nudge();
        return;
      }
      if (!open || !existing) return; // not eligible and nothing to end
      const validTo = addDays(policy ? onDate : (versions.map((v) => v.effectiveTo ?? onDate).sort().pop() as string), policy ? -1 : 0);
      const endOn = validTo < open.from ? addDays(open.from, -1) : validTo;
      const reasonCode = elder.status === 'DECEASED' ? 'DECEASED' : elder.status === 'MOVED_OUT' ? 'MOVED_OUT' : policy ? 'NOT_ELIGIBLE' : 'POLICY_EXPIRED';
      const event = this.events.create(EntitlementEnded, {
        key: elder._id,
        correlationId,
        causationId,
        payload: { entitlementId: _id, elderId: elder._id, policyId: policy?._id ?? versions[0]._id, accountId: existing.accountId, validTo: endOn, reasonCode, reasons: reasonsZh },
      });
      const periods = existing.periods.map((p) => (p === open ? { ...p, to: endOn } : p));
      const res = await this.entitlements.updateOne(
        { _id, version: existing.version },
        withOutbox({ $set: { state: 'ENDED', periods, reasons: reasonsZh, version: existing.version + 1 } }, [event]) as never,
      );
      if (res.matchedCount === 0) continue;
      this.relay.nudge();
      return;
    }
    throw new AppError('BILLING.CONCURRENT_UPDATE', 409, `Entitlement ${_id} kept changing; retry`, { messageZh: '资格记录并发修改，请重试' });
  }

  async forElder(principal: Principal, elderId: string): Promise<Entitlement[]> {
    await this.requireElder(principal, elderId);
    const list = await this.entitlements.find({ elderId, ...elderScopeFilter(principal) }, { projection: { outbox: 0, outboxPending: 0 } }).toArray();
    return list.sort((a, b) => (a.policyCode < b.policyCode ? -1 : 1));
  }

  /** Why an elder is or is not eligible for each elder-benefit policy, rule by rule, on a date. */
  async explain(principal: Principal, elderId: string, query: unknown) {
    const { on = todayInChina() } = parseInput(ExplainQuery, query);
    const elder = await this.requireElder(principal, elderId);
    const byCode = new Map<string, Policy[]>();
    for (const p of await this.policies.all()) if (p.status === 'ACTIVE' && isElderBenefit(p.benefit.kind)) byCode.set(p.code, [...(byCode.get(p.code) ?? []), p]);
    const out = [];
    for (const [code, versions] of [...byCode].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const { policy, eligibleFrom, rules } = this.decide(elder, versions, on);
      if (!policy) continue;
      const ent = await this.entitlements.findOne({ _id: entitlementId(elderId, code) });
      out.push({
        policyCode: code,
        policyId: policy._id,
        nameZh: policy.nameZh,
        nameEn: policy.nameEn,
        eligible: eligibleFrom !== null && eligibleFrom <= on,
        eligibleFrom,
        entitlement: ent ? { state: ent.state, periods: ent.periods, accountId: ent.accountId, coversDate: periodCovers(ent.periods, on) } : null,
        rules: rules.map((r) => ({ rule: r.rule, met: r.met, en: r.en, zh: r.zh })),
      });
    }
    return { elderId, on, policies: out };
  }

  async requireElder(principal: Principal, elderId: string): Promise<ElderFacts> {
    const elder = await this.view.elder(elderId);
    if (!elder || !canSeeElder(principal, elder)) throw new AppError('BILLING.ELDER_NOT_FOUND', 404, 'Elder not found', { messageZh: '未找到该老人' });
    return elder;
  }
}
