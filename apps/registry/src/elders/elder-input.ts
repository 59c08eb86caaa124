import { ElderCategorySchema, ElderStatusSchema, GenderSchema, RegionCodeSchema, type ElderCategory, type Gender } from '@yiyang/contracts';
import { z } from 'zod';
import { checkIdCardAgainst, parseIdCard } from './domain/id-card';
import { normalisePhone, PHONE_PATTERN } from './pii';

const Phone = z
  .string()
  .trim()
  .regex(PHONE_PATTERN, 'must be a mobile number (1[3-9] + 9 digits) or a landline (0 + area code + 7–8 digits)');
const IsoDate = z.iso.date('must be a date YYYY-MM-DD');
// Mainland China and its islands, with a margin: a swapped lat/lng is caught here, not on a map.
const Home = z.object({ lat: z.number().min(3).max(54), lng: z.number().min(73).max(136) });

export const GuardianInput = z.object({
  /** Present when editing an existing guardian; new guardians get one. */
  guardianId: z.uuid().optional(),
  name: z.string().trim().min(1).max(50),
  relation: z.string().trim().min(1).max(20),
  phone: Phone,
});
export type GuardianInput = z.infer<typeof GuardianInput>;

/**
 * What one row of a bureau roster carries — also the body of POST /elders. The roster import
 * (another feature) parses its CSV/XLSX rows into this shape and hands them to EldersService.upsertMany.
 * ADVANCED_AGE in `categories` is ignored: it is derived from the birth date.
 */
export const ElderInput = z.object({
  name: z.string().trim().min(1).max(50),
  gender: GenderSchema,
  /** Optional: the ID number carries it. When given, it must agree with the number. */
  birthDate: IsoDate.optional(),
  idCardNumber: z.string().trim().min(1),
  phone: Phone.optional(),
  regionCode: RegionCodeSchema,
  homeAddress: z.string().trim().min(1).max(200),
  home: Home,
  categories: z.array(ElderCategorySchema).max(20).default([]),
  guardians: z.array(GuardianInput).max(10).optional(),
  caregiverGender: GenderSchema.nullable().optional(),
});
export type ElderInput = z.input<typeof ElderInput>;

/** PATCH /elders/:id — profile, categories, guardians, preferences. Status has its own endpoint. */
export const ElderPatch = z.strictObject({
  name: z.string().trim().min(1).max(50).optional(),
  gender: GenderSchema.optional(),
  birthDate: IsoDate.optional(),
  idCardNumber: z.string().trim().min(1).optional(),
  phone: Phone.nullable().optional(),
  regionCode: RegionCodeSchema.optional(),
  homeAddress: z.string().trim().min(1).max(200).optional(),
  home: Home.optional(),
  categories: z.array(ElderCategorySchema).max(20).optional(),
  guardians: z.array(GuardianInput).max(10).optional(),
  preferences: z.strictObject({ caregiverGender: GenderSchema.nullable() }).optional(),
  /** Optimistic concurrency from the client: the version it last read. */
  version: z.number().int().positive().optional(),
});
export type ElderPatch = z.infer<typeof ElderPatch>;

export const StatusChange = z.strictObject({
  status: ElderStatusSchema,
  effectiveOn: IsoDate,
  reason: z.string().trim().min(1).max(500),
});

export const ElderListQuery = z.object({
  regionCode: RegionCodeSchema.optional(),
  category: ElderCategorySchema.optional(),
  status: ElderStatusSchema.optional(),
  name: z.string().trim().min(1).max(50).optional(),
  idCardNumber: z.string().trim().min(1).max(18).optional(),
});

/** A profile that passed every rule, with the values normalised and the birth date settled. */
export interface CheckedProfile {
  name: string;
  gender: Gender;
  birthDate: string;
  idCardNumber: string;
  phone?: string | null;
  regionCode: string;
  homeAddress: string;
  home: { lat: number; lng: number };
  /** Caller-maintained categories only; ADVANCED_AGE is added by the service. */
  categories: ElderCategory[];
  guardians?: GuardianInput[];
  caregiverGender?: Gender | null;
}

export interface InputProblem {
  field: string;
  code: string;
  /** Machine-readable cause, e.g. CHECKSUM. */
  kind: string;
  message: string;
  messageZh: string;
}

/**
 * The rules across fields that a schema cannot say: the ID's checksum, its birth date and gender
 * agreeing with the ones entered. Shared by the HTTP path and the roster batch so both refuse alike.
 */
export function checkProfile(input: Omit<CheckedProfile, 'birthDate'> & { birthDate?: string }, today: string): CheckedProfile | InputProblem {
  const parsed = parseIdCard(input.idCardNumber, today);
  const problem = parsed.ok ? checkIdCardAgainst(parsed.facts, { birthDate: input.birthDate, gender: input.gender }) : parsed.problem;
  if (problem || !parsed.ok) {
    return {
      field: 'idCardNumber',
      code: 'REGISTRY.ID_CARD_INVALID',
      kind: problem?.reason ?? 'FORMAT',
      message: problem?.message ?? 'invalid',
      messageZh: `身份证号码有误：${problem?.messageZh ?? "格式无效"}`,
    };
  }
  return {
    ...input,
    idCardNumber: parsed.facts.number,
    birthDate: parsed.facts.birthDate,
    phone: input.phone == null ? input.phone : normalisePhone(input.phone),
    categories: [...new Set(input.categories.filter((c) => c !== 'ADVANCED_AGE'))].sort(),
    guardians: input.guardians?.map((g) => ({ ...g, phone: normalisePhone(g.phone) })),
  };
}

export function isProblem(value: CheckedProfile | InputProblem): value is InputProblem {
  return 'code' in value && 'kind' in value;
}
