import { z } from 'zod';
import { defineEvent } from '../envelope';
import { FenSchema, RegionCodeSchema } from '../registry/vocabulary';
import { BillingTopics } from './topics';

// Billing's published facts. Money is integer fen (分) everywhere; dates are Asia/Shanghai calendar
// dates (yyyy-mm-dd) and months are yyyy-mm in Asia/Shanghai (China has no daylight-saving time).

export const BenefitKindSchema = z.enum([
  /** A monthly allowance spendable on eligible services; unused balance lapses or carries over. */
  'MONTHLY_ALLOWANCE',
  /** A one-off grant per household (e.g. age-friendly renovation). */
  'ONE_OFF_GRANT',
  /** A subsidy per unit of an eligible service (e.g. per meal), with a co-payment rule. */
  'PER_UNIT_SUBSIDY',
  /** Paid to a provider per occupied bed or per facility per month. */
  'OPERATING_SUBSIDY',
  /** Paid for a caregiver: entry subsidy (one-off) or skill allowance (monthly). */
  'CAREGIVER_SUBSIDY',
]);
export type BenefitKind = z.infer<typeof BenefitKindSchema>;

export const FundSourceSchema = z.enum(['CENTRAL_PILOT', 'PROVINCIAL', 'MUNICIPAL', 'COUNTY']);
export type FundSource = z.infer<typeof FundSourceSchema>;

const DateSchema = z.iso.date();
const MonthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be yyyy-mm');

export const EntitlementGranted = defineEvent({
  topic: BillingTopics.entitlements,
  type: 'billing.entitlement.granted',
  version: 1,
  payload: z.object({
    entitlementId: z.string(),
    elderId: z.string(),
    policyId: z.string(),
    policyVersion: z.number().int().positive(),
    benefitKind: BenefitKindSchema,
    regionCode: RegionCodeSchema,
    /** First day (inclusive) the elder may draw on it. */
    validFrom: DateSchema,
    /** The account the benefit is credited to and drawn from. */
    accountId: z.string(),
    /** Human-readable reasons, one per rule the elder met (zh-CN). */
    reasons: z.array(z.string()),
  }),
});

export const EntitlementEnded = defineEvent({
  topic: BillingTopics.entitlements,
  type: 'billing.entitlement.ended',
  version: 1,
  payload: z.object({
    entitlementId: z.string(),
    elderId: z.string(),
    policyId: z.string(),
    accountId: z.string(),
    /** Last day (inclusive) the elder could draw on it. */
    validTo: DateSchema,
    /** Why: e.g. 'NOT_ELIGIBLE', 'DECEASED', 'MOVED_OUT', 'POLICY_EXPIRED'. */
    reasonCode: z.string(),
    reasons: z.array(z.string()),
  }),
});

/** One subsidy draw of a charge: which policy paid how much, from which account and fund budget. */
export const SubsidyPartSchema = z.object({
  policyId: z.string(),
  accountId: z.string(),
  fundSource: FundSourceSchema,
  budgetId: z.string(),
  amountFen: FenSchema,
});

export const ChargePosted = defineEvent({
  topic: BillingTopics.ledger,
  type: 'billing.charge.posted',
  version: 1,
  payload: z.object({
    chargeId: z.string(),
    /** The dispatch event that caused the charge (VisitVerified or VisitApproved). */
    sourceEventId: z.string(),
    visitId: z.string(),
    orderId: z.string(),
    elderId: z.string(),
    providerId: z.string(),
    caregiverId: z.string(),
    itemCode: z.string(),
    regionCode: RegionCodeSchema,
    serviceDate: DateSchema,
    /** The settlement month the charge belongs to (Asia/Shanghai). A late charge names a later month. */
    settlementMonth: MonthSchema,
    quantity: z.number().nonnegative(),
    unitPriceFen: FenSchema,
    grossFen: FenSchema,
    subsidyFen: FenSchema,
    copayFen: FenSchema,
    /** Subsidy that a fund budget could not cover: held for review, not paid, not lost. */
    heldFen: FenSchema,
    parts: z.array(SubsidyPartSchema),
  }),
});

/**
 * A caregiver entry subsidy (once per caregiver and policy) or skill allowance (once per caregiver,
 * policy and month) posted to the ledger; it is paid through the caregiver's provider on that
 * provider's statement. Keyed by the caregiver (the ledger topic's key is the elder for charges).
 */
export const CaregiverSubsidyPosted = defineEvent({
  topic: BillingTopics.ledger,
  type: 'billing.caregiver-subsidy.posted',
  version: 1,
  payload: z.object({
    journalId: z.string(),
    caregiverId: z.string(),
    providerId: z.string(),
    regionCode: RegionCodeSchema,
    policyId: z.string(),
    subsidy: z.enum(['ENTRY', 'SKILL_ALLOWANCE']),
    /** The month the subsidy is for (entry: the month the caregiver started). */
    month: MonthSchema,
    settlementMonth: MonthSchema,
    amountFen: FenSchema,
    /** The part a fund budget could not cover: held, not paid. */
    heldFen: FenSchema,
    parts: z.array(SubsidyPartSchema),
  }),
});

export const ChargeReversed = defineEvent({
  topic: BillingTopics.ledger,
  type: 'billing.charge.reversed',
  version: 1,
  payload: z.object({
    reversalId: z.string(),
    chargeId: z.string(),
    visitId: z.string(),
    elderId: z.string(),
    providerId: z.string(),
    /** The elder's region (as on the charge), for region-scoped consumers. */
    regionCode: RegionCodeSchema,
    serviceDate: DateSchema,
    settlementMonth: MonthSchema,
    subsidyFen: FenSchema,
    copayFen: FenSchema,
    reason: z.string(),
  }),
});

export const ChargeHeld = defineEvent({
  topic: BillingTopics.ledger,
  type: 'billing.charge.held',
  version: 1,
  payload: z.object({
    chargeId: z.string(),
    visitId: z.string(),
    elderId: z.string(),
    providerId: z.string(),
    policyId: z.string(),
    budgetId: z.string(),
    fundSource: FundSourceSchema,
    heldFen: FenSchema,
    reason: z.enum(['BUDGET_EXHAUSTED', 'BUDGET_MISSING']),
  }),
});

export const StatementTotalsSchema = z.object({
  lineCount: z.number().int().nonnegative(),
  grossFen: z.number().int(),
  subsidyFen: z.number().int(),
  copayFen: z.number().int(),
  /** Net of adjustments carried in from earlier, closed months (negative for reversals). */
  adjustmentSubsidyFen: z.number().int(),
  adjustmentCopayFen: z.number().int(),
  /** Operating subsidies (per occupied bed / per facility) for the month. */
  operatingSubsidyFen: z.number().int().default(0),
  /** Subsidy + adjustments + operating subsidies: what the bureau pays the provider. */
  payableFen: z.number().int(),
});

const statementBase = {
  statementId: z.string(),
  providerId: z.string(),
  month: MonthSchema,
  totals: StatementTotalsSchema,
};

export const SettlementIssued = defineEvent({
  topic: BillingTopics.settlements,
  type: 'billing.settlement.issued',
  version: 1,
  payload: z.object({ ...statementBase, issuedAt: z.iso.datetime({ offset: true }) }),
});
export const SettlementApproved = defineEvent({
  topic: BillingTopics.settlements,
  type: 'billing.settlement.approved',
  version: 1,
  payload: z.object({ ...statementBase, approvedBy: z.string(), approvedAt: z.iso.datetime({ offset: true }) }),
});
export const SettlementPaid = defineEvent({
  topic: BillingTopics.settlements,
  type: 'billing.settlement.paid',
  version: 1,
  payload: z.object({ ...statementBase, paidAt: z.iso.datetime({ offset: true }), paymentReference: z.string() }),
});

export const BudgetThresholdReached = defineEvent({
  topic: BillingTopics.budgets,
  type: 'billing.budget.threshold-reached',
  version: 1,
  payload: z.object({
    budgetId: z.string(),
    fundSource: FundSourceSchema,
    year: z.number().int(),
    regionCode: RegionCodeSchema,
    /** The threshold crossed, in percent of the allocation (e.g. 80, 100). */
    thresholdPercent: z.number().int().positive(),
    allocatedFen: FenSchema,
    spentFen: FenSchema,
    heldFen: FenSchema,
  }),
});
