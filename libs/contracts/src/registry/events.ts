import { z } from 'zod';
import { defineEvent } from '../envelope';
import { RegistryTopics } from './topics';
import {
  AbsenceKindSchema,
  CapabilityLevelSchema,
  ElderCategorySchema,
  ElderStatusSchema,
  FacilityKindSchema,
  FenSchema,
  GenderSchema,
  LatLngSchema,
  ProviderTypeSchema,
  RegionCodeSchema,
  ServiceCategorySchema,
  ServiceUnitSchema,
  WorkerKindSchema,
} from './vocabulary';

// Event-carried state transfer: every registry event carries the aggregate's complete current
// snapshot and a `version` that grows by one per change. A consumer keeps its read model by
// "replace if the incoming version is newer" — idempotent under redelivery, correct under replay.
// Identifiers people are sensitive about (ID-card number, phone) never leave the registry;
// other services get what they need to serve: where the elder lives, who to call.

export const RegionSnapshot = z.object({
  code: RegionCodeSchema,
  name: z.string(),
  level: z.enum(['PROVINCE', 'CITY', 'COUNTY', 'STREET', 'COMMUNITY']),
  parentCode: RegionCodeSchema.nullable(),
  centre: LatLngSchema,
  version: z.number().int().positive(),
});

export const GuardianSnapshot = z.object({
  guardianId: z.string(),
  name: z.string(),
  relation: z.string(),
  /** Needed by dispatch to call the family in an emergency. */
  phone: z.string(),
});

export const ElderSnapshot = z.object({
  elderId: z.string(),
  regionCode: RegionCodeSchema,
  /** Every ancestor region down to the elder's community (see @yiyang/geo regionPath). */
  regionPath: z.array(RegionCodeSchema),
  name: z.string(),
  gender: GenderSchema,
  birthDate: z.iso.date(),
  homeAddress: z.string(),
  home: LatLngSchema,
  /** H3 resolution-9 cell of the home. */
  homeCell: z.string(),
  categories: z.array(ElderCategorySchema),
  capabilityLevel: CapabilityLevelSchema.nullable(),
  status: ElderStatusSchema,
  statusSince: z.iso.date(),
  guardians: z.array(GuardianSnapshot),
  preferences: z.object({ caregiverGender: GenderSchema.nullable() }).default({ caregiverGender: null }),
  version: z.number().int().positive(),
});
export type ElderSnapshot = z.infer<typeof ElderSnapshot>;

export const AssessmentSummary = z.object({
  assessmentId: z.string(),
  standard: z.string(),
  standardVersion: z.string(),
  total: z.number().int().min(0).max(90),
  level: CapabilityLevelSchema,
  assessedOn: z.iso.date(),
});

export const ElderRegistered = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.registered',
  version: 1,
  payload: z.object({ elder: ElderSnapshot }),
});
export const ElderUpdated = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.updated',
  version: 1,
  payload: z.object({ elder: ElderSnapshot, changedFields: z.array(z.string()) }),
});
export const ElderAssessed = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.assessed',
  version: 1,
  payload: z.object({ elder: ElderSnapshot, assessment: AssessmentSummary, previousLevel: CapabilityLevelSchema.nullable() }),
});
export const ElderCategoriesChanged = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.categories-changed',
  version: 1,
  payload: z.object({
    elder: ElderSnapshot,
    added: z.array(ElderCategorySchema),
    removed: z.array(ElderCategorySchema),
    /** The date the change takes effect (billing grants/ends entitlements from it). */
    effectiveOn: z.iso.date(),
  }),
});
export const ElderStatusChanged = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.status-changed',
  version: 1,
  payload: z.object({ elder: ElderSnapshot, from: ElderStatusSchema, to: ElderStatusSchema, effectiveOn: z.iso.date(), reason: z.string() }),
});

/**
 * A temporary absence of an elder (away from home, in hospital). The elder's status stays ACTIVE.
 * The period is half-open, [from, to): instants in UTC (ISO 8601, `Z`). A service that started at or
 * after `from` and before `to` (or any time after `from` while `to` is null) happened while the elder
 * was away. `to: null` means open-ended (not back yet). `version` starts at 1 and grows by one per
 * change of this absence: keep the newest version per absenceId. Keyed by elderId on the elders topic,
 * so an elder's absences arrive in order with the elder's other events. The free-text note (may hold
 * health details) never leaves the registry.
 */
export const AbsenceSnapshot = z.object({
  absenceId: z.string(),
  elderId: z.string(),
  regionCode: RegionCodeSchema,
  kind: AbsenceKindSchema,
  from: z.iso.datetime(),
  to: z.iso.datetime().nullable(),
  version: z.number().int().positive(),
});
export type AbsenceSnapshot = z.infer<typeof AbsenceSnapshot>;

/** Recorded, possibly already with its end (`to`) when the period is known in advance or back-filled. */
export const ElderAbsenceRecorded = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.absence-recorded',
  version: 1,
  payload: z.object({
    elderId: z.string(),
    absenceId: z.string(),
    kind: AbsenceKindSchema,
    from: z.iso.datetime(),
    to: z.iso.datetime().nullable(),
    regionCode: RegionCodeSchema,
    absence: AbsenceSnapshot,
  }),
});
/** The absence ended (the elder is back) or its end was corrected; `to` is the (new) end. */
export const ElderAbsenceEnded = defineEvent({
  topic: RegistryTopics.elders,
  type: 'registry.elder.absence-ended',
  version: 1,
  payload: z.object({
    elderId: z.string(),
    absenceId: z.string(),
    kind: AbsenceKindSchema,
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    /** The end before this event (null when it was open-ended). */
    previousTo: z.iso.datetime().nullable(),
    regionCode: RegionCodeSchema,
    absence: AbsenceSnapshot,
  }),
});

export const RegionUpserted = defineEvent({
  topic: RegistryTopics.regions,
  type: 'registry.region.upserted',
  version: 1,
  payload: z.object({ region: RegionSnapshot }),
});

export const ProviderSnapshot = z.object({
  providerId: z.string(),
  name: z.string(),
  type: ProviderTypeSchema,
  licenceNumber: z.string(),
  contactPhone: z.string(),
  /** Region codes (streets or communities) the provider serves. */
  serviceAreas: z.array(RegionCodeSchema),
  /** Catalogue item codes the provider offers. */
  offeredItems: z.array(z.string()),
  active: z.boolean(),
  version: z.number().int().positive(),
});
export const ProviderUpserted = defineEvent({
  topic: RegistryTopics.providers,
  type: 'registry.provider.upserted',
  version: 1,
  payload: z.object({ provider: ProviderSnapshot }),
});

export const ServiceContractSnapshot = z.object({
  contractId: z.string(),
  providerId: z.string(),
  /** The community (or street) whose elders the provider serves under this contract. */
  regionCode: RegionCodeSchema,
  facilityId: z.string().nullable(),
  validFrom: z.iso.date(),
  validTo: z.iso.date().nullable(),
  version: z.number().int().positive(),
});
export const ServiceContractUpserted = defineEvent({
  topic: RegistryTopics.providers,
  type: 'registry.contract.upserted',
  version: 1,
  payload: z.object({ contract: ServiceContractSnapshot }),
});

export const WeeklySlot = z.object({
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  day: z.number().int().min(1).max(7),
  from: z.string().regex(/^\d{2}:\d{2}$/),
  to: z.string().regex(/^\d{2}:\d{2}$/),
});
export const CaregiverSnapshot = z.object({
  caregiverId: z.string(),
  providerId: z.string(),
  kind: WorkerKindSchema,
  name: z.string(),
  gender: GenderSchema,
  regionCode: RegionCodeSchema,
  /** Catalogue item codes this worker may deliver. */
  skills: z.array(z.string()),
  certifications: z.array(z.object({ name: z.string(), number: z.string(), expiresOn: z.iso.date() })),
  homeBase: LatLngSchema,
  homeBaseCell: z.string(),
  weeklyAvailability: z.array(WeeklySlot),
  active: z.boolean(),
  version: z.number().int().positive(),
});
export const CaregiverUpserted = defineEvent({
  topic: RegistryTopics.caregivers,
  type: 'registry.caregiver.upserted',
  version: 1,
  payload: z.object({ caregiver: CaregiverSnapshot }),
});

export const FacilitySnapshot = z.object({
  facilityId: z.string(),
  kind: FacilityKindSchema,
  name: z.string(),
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  address: z.string(),
  location: LatLngSchema,
  locationCell: z.string(),
  providerId: z.string().nullable(),
  openingHours: z.array(WeeklySlot),
  capacity: z.number().int().nonnegative(),
  beds: z.object({ total: z.number().int().nonnegative(), nursing: z.number().int().nonnegative(), occupied: z.number().int().nonnegative() }),
  open: z.boolean(),
  version: z.number().int().positive(),
});
export const FacilityUpserted = defineEvent({
  topic: RegistryTopics.facilities,
  type: 'registry.facility.upserted',
  version: 1,
  payload: z.object({ facility: FacilitySnapshot }),
});

export const FamilyCareBedSnapshot = z.object({
  bedId: z.string(),
  elderId: z.string(),
  regionCode: RegionCodeSchema,
  providerId: z.string().nullable(),
  deviceIds: z.array(z.string()),
  since: z.iso.date(),
  active: z.boolean(),
  version: z.number().int().positive(),
});
export const FamilyCareBedUpserted = defineEvent({
  topic: RegistryTopics.facilities,
  type: 'registry.family-care-bed.upserted',
  version: 1,
  payload: z.object({ bed: FamilyCareBedSnapshot }),
});

export const CatalogueItemSnapshot = z.object({
  code: z.string(),
  nameZh: z.string(),
  nameEn: z.string(),
  category: ServiceCategorySchema,
  unit: ServiceUnitSchema,
  defaultDurationMinutes: z.number().int().positive(),
  active: z.boolean(),
  version: z.number().int().positive(),
});
export const CatalogueItemUpserted = defineEvent({
  topic: RegistryTopics.catalogue,
  type: 'registry.catalogue-item.upserted',
  version: 1,
  payload: z.object({ item: CatalogueItemSnapshot }),
});

export const PriceSnapshot = z.object({
  providerId: z.string(),
  itemCode: z.string(),
  priceFen: FenSchema,
  effectiveFrom: z.iso.date(),
  version: z.number().int().positive(),
});
export const PriceChanged = defineEvent({
  topic: RegistryTopics.catalogue,
  type: 'registry.price.changed',
  version: 1,
  payload: z.object({ price: PriceSnapshot }),
});
