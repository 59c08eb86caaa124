import { BenefitKindSchema, CapabilityLevelSchema, ElderCategorySchema, FundSourceSchema, ServiceCategorySchema } from '@yiyang/contracts';
import { regionWithin } from '@yiyang/geo';
import { z } from 'zod';
import { IsoDateRegex } from '../../shared/dates';

const IsoDate = z.string().regex(IsoDateRegex, 'must be a date yyyy-mm-dd');
const RegionCode = z.string().regex(/^\d{12}$/, 'must be a 12-digit region code');
const Fen = z.number().int('must be integer fen').nonnegative().max(1_000_000_000);

/**
 * Who is eligible. Every present rule must hold (AND); within a list, any member will do (OR).
 * An empty object makes everyone in the policy's region scope eligible.
 */
export const EligibilitySchema = z
  .object({
    /** The elder must be in at least one of these categories. */
    categoriesAny: z.array(ElderCategorySchema).min(1).optional(),
    /** The elder must be in every one of these categories. */
    categoriesAll: z.array(ElderCategorySchema).min(1).optional(),
    /** The elder's assessed capability level must be one of these (unassessed elders do not qualify). */
    capabilityLevels: z.array(CapabilityLevelSchema).min(1).optional(),
    minAge: z.number().int().min(0).max(130).optional(),
    maxAge: z.number().int().min(0).max(130).optional(),
    /** Sub-regions of the policy's scope the elder must live in (any). */
    regionCodes: z.array(RegionCode).min(1).optional(),
    /** true: only low-income (低保) elders; false: only those who are not. */
    lowIncome: z.boolean().optional(),
  })
  .strict();
export type Eligibility = z.infer<typeof EligibilitySchema>;

export const CopayRuleSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('PERCENT'), percent: z.number().int().min(0).max(100), capFen: Fen.optional() }).strict(),
  z.object({ mode: z.literal('FIXED'), amountFen: Fen, capFen: Fen.optional() }).strict(),
]);
export type CopayRule = z.infer<typeof CopayRuleSchema>;

export const BenefitSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('MONTHLY_ALLOWANCE'), amountFen: Fen.min(1), unusedBalance: z.enum(['LAPSE', 'CARRY_OVER']) }).strict(),
  z.object({ kind: z.literal('ONE_OFF_GRANT'), amountFen: Fen.min(1), per: z.enum(['HOUSEHOLD', 'ELDER']) }).strict(),
  z
    .object({
      kind: z.literal('PER_UNIT_SUBSIDY'),
      /** The most the fund pays per unit (e.g. per meal). */
      maxSubsidyFenPerUnit: Fen.min(1),
      /** What the elder pays per unit at least (before the subsidy cap pushes more onto them). */
      copay: CopayRuleSchema,
    })
    .strict(),
  z.object({ kind: z.literal('OPERATING_SUBSIDY'), basis: z.enum(['OCCUPIED_BED', 'FACILITY']), amountFen: Fen.min(1), facilityKinds: z.array(z.string()).min(1).optional() }).strict(),
  z
    .object({
      kind: z.literal('CAREGIVER_SUBSIDY'),
      subsidy: z.enum(['ENTRY', 'SKILL_ALLOWANCE']),
      amountFen: Fen.min(1),
      /** Skill allowance: per month while the certification is valid; entry subsidy: once. */
      certification: z.string().min(1).optional(),
    })
    .strict(),
]);
export type Benefit = z.infer<typeof BenefitSchema>;
// Keep the contract's list and the schema's kinds in step.
BenefitKindSchema.options satisfies readonly Benefit['kind'][];

export const FundingSchema = z
  .array(z.object({ fundSource: FundSourceSchema, sharePercent: z.number().int().min(1).max(100) }).strict())
  .min(1)
  .refine((f) => f.reduce((s, x) => s + x.sharePercent, 0) === 100, 'fund shares must add up to 100')
  .refine((f) => new Set(f.map((x) => x.fundSource)).size === f.length, 'each fund source at most once');

export const PolicyInputSchema = z
  .object({
    code: z.string().regex(/^[A-Z0-9][A-Z0-9_-]{1,40}$/, 'upper-case letters, digits, - and _'),
    nameZh: z.string().trim().min(1).max(120),
    nameEn: z.string().trim().min(1).max(120),
    /** Root of the region subtree the policy covers (a city, county or street). */
    regionCode: RegionCode,
    effectiveFrom: IsoDate,
    /** Last day in force (inclusive); null = open-ended. */
    effectiveTo: IsoDate.nullable().default(null),
    eligibility: EligibilitySchema.default({}),
    benefit: BenefitSchema,
    /** Catalogue item codes the policy may pay for (elder benefits); empty for provider/caregiver subsidies. */
    eligibleItems: z.array(z.string().min(1)).default([]),
    /** …or whole service categories (助餐, 助洁…); an item qualifies if listed or its category is. */
    eligibleCategories: z.array(ServiceCategorySchema).default([]),
    funding: FundingSchema,
    /** Among policies of the same kind, lower applies first. */
    priority: z.number().int().min(0).max(1000).default(100),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.effectiveTo && p.effectiveTo < p.effectiveFrom) ctx.addIssue({ code: 'custom', path: ['effectiveTo'], message: 'must not be before effectiveFrom' });
    const e = p.eligibility;
    if (e.minAge !== undefined && e.maxAge !== undefined && e.maxAge < e.minAge) ctx.addIssue({ code: 'custom', path: ['eligibility', 'maxAge'], message: 'must not be below minAge' });
    for (const [i, r] of (e.regionCodes ?? []).entries()) {
      if (!regionWithin(r, p.regionCode)) ctx.addIssue({ code: 'custom', path: ['eligibility', 'regionCodes', i], message: 'must lie inside the policy region' });
    }
    const paysServices = ['MONTHLY_ALLOWANCE', 'ONE_OFF_GRANT', 'PER_UNIT_SUBSIDY'].includes(p.benefit.kind);
    if (paysServices && p.eligibleItems.length === 0 && p.eligibleCategories.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['eligibleItems'], message: 'a benefit spent on services must name the items or categories it pays for' });
    }
  });
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

/** A stored policy version. `_id` is `<code>@<version>`; versions never change once they have been in force. */
export interface Policy extends PolicyInput {
  _id: string;
  version: number;
  status: 'ACTIVE' | 'WITHDRAWN';
  createdAt: Date;
  createdBy: string;
}

export function policyInForce(p: Pick<Policy, 'effectiveFrom' | 'effectiveTo' | 'status'>, date: string): boolean {
  return p.status === 'ACTIVE' && p.effectiveFrom <= date && (p.effectiveTo === null || date <= p.effectiveTo);
}

/** Does the policy pay for this catalogue item? */
export function coversItem(p: Pick<Policy, 'eligibleItems' | 'eligibleCategories'>, itemCode: string, category: string | undefined): boolean {
  return p.eligibleItems.includes(itemCode) || (category !== undefined && (p.eligibleCategories as string[]).includes(category));
}

export const ELDER_BENEFITS = ['MONTHLY_ALLOWANCE', 'ONE_OFF_GRANT', 'PER_UNIT_SUBSIDY'] as const;
export function isElderBenefit(kind: Benefit['kind']): boolean {
  return (ELDER_BENEFITS as readonly string[]).includes(kind);
}
