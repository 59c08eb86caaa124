import { z } from 'zod';

// The registry's vocabularies. Codes are English domain terms (what code compares); labels are what
// people read — zh-CN first, English beside it.

const labelled = <T extends string>(labels: Record<T, { zh: string; en: string }>) => ({
  codes: Object.keys(labels) as [T, ...T[]],
  labels,
});

export const ElderCategories = labelled({
  LIVING_ALONE: { zh: '独居', en: 'Living alone' },
  EMPTY_NEST: { zh: '空巢', en: 'Empty-nest' },
  LEFT_BEHIND: { zh: '留守', en: 'Left-behind' },
  DESTITUTE: { zh: '特困', en: 'Destitute (extreme poverty)' },
  ADVANCED_AGE: { zh: '高龄', en: 'Advanced age (80+)' },
  SEVERELY_DISABLED: { zh: '重残', en: 'Severely disabled' },
  DISABLED: { zh: '失能/半失能', en: 'Disabled or semi-disabled' },
  SPECIAL_FAMILY_PLANNING: { zh: '计划生育特殊家庭', en: 'Special family-planning family' },
  LOW_INCOME: { zh: '低保', en: 'Low-income (minimum living allowance)' },
});
export const ElderCategorySchema = z.enum(ElderCategories.codes);
export type ElderCategory = z.infer<typeof ElderCategorySchema>;

export const GenderSchema = z.enum(['FEMALE', 'MALE']);
export type Gender = z.infer<typeof GenderSchema>;

export const ElderStatuses = labelled({
  ACTIVE: { zh: '在册', en: 'Active' },
  MOVED_OUT: { zh: '迁出', en: 'Moved out' },
  DECEASED: { zh: '已故', en: 'Deceased' },
});
export const ElderStatusSchema = z.enum(ElderStatuses.codes);
export type ElderStatus = z.infer<typeof ElderStatusSchema>;

/** Temporary absences of an ACTIVE elder (the status stays ACTIVE while away). */
export const AbsenceKinds = labelled({
  AWAY: { zh: '外出/探亲', en: 'Away from home' },
  IN_HOSPITAL: { zh: '住院', en: 'In hospital' },
});
export const AbsenceKindSchema = z.enum(AbsenceKinds.codes);
export type AbsenceKind = z.infer<typeof AbsenceKindSchema>;

/** GB/T 42195-2022 capability levels (老年人能力评估规范). */
export const CapabilityLevels = labelled({
  INTACT: { zh: '能力完好', en: 'Intact' },
  MILD: { zh: '轻度失能', en: 'Mild impairment' },
  MODERATE: { zh: '中度失能', en: 'Moderate impairment' },
  SEVERE: { zh: '重度失能', en: 'Severe impairment' },
  COMPLETE_LOSS: { zh: '完全失能', en: 'Complete loss' },
});
export const CapabilityLevelSchema = z.enum(CapabilityLevels.codes);
export type CapabilityLevel = z.infer<typeof CapabilityLevelSchema>;

/** The "helps" of home care, by which the catalogue is organised. */
export const ServiceCategories = labelled({
  MEALS: { zh: '助餐', en: 'Meals' },
  CLEANING: { zh: '助洁', en: 'Cleaning' },
  BATHING: { zh: '助浴', en: 'Bathing' },
  EMERGENCY: { zh: '助急', en: 'Emergency help' },
  MEDICAL: { zh: '助医', en: 'Medical escort and medication' },
  MOBILITY: { zh: '助行', en: 'Mobility' },
  ERRANDS: { zh: '助购/代办', en: 'Shopping and errands' },
  REHABILITATION: { zh: '康复理疗', en: 'Rehabilitation and physiotherapy' },
  DAY_CARE: { zh: '日间照料', en: 'Day care' },
  RESPITE: { zh: '喘息服务', en: 'Respite care' },
  EMOTIONAL_SUPPORT: { zh: '精神慰藉', en: 'Emotional support and counselling' },
  HEALTH_MONITORING: { zh: '健康监测', en: 'Health monitoring' },
  HOME_ADAPTATION: { zh: '适老化改造', en: 'Age-friendly home adaptation' },
});
export const ServiceCategorySchema = z.enum(ServiceCategories.codes);
export type ServiceCategory = z.infer<typeof ServiceCategorySchema>;

export const ServiceUnits = labelled({
  PER_VISIT: { zh: '次', en: 'per visit' },
  PER_HOUR: { zh: '小时', en: 'per hour' },
  PER_MEAL: { zh: '餐', en: 'per meal' },
  PER_DAY: { zh: '天', en: 'per day' },
  PER_ITEM: { zh: '项', en: 'per item' },
});
export const ServiceUnitSchema = z.enum(ServiceUnits.codes);

export const FacilityKinds = labelled({
  STREET_CENTRE: { zh: '街道综合养老服务中心', en: 'Street-level comprehensive elder-service centre' },
  DAY_CARE_STATION: { zh: '社区日间照料中心/站', en: 'Community day-care station' },
  CANTEEN: { zh: '长者食堂/助餐点', en: 'Elder canteen / meal point' },
  INSTITUTION: { zh: '养老机构/敬老院', en: 'Institution / nursing home' },
});
export const FacilityKindSchema = z.enum(FacilityKinds.codes);

export const WorkerKinds = labelled({
  CAREGIVER: { zh: '护理员', en: 'Caregiver' },
  VOLUNTEER: { zh: '志愿者', en: 'Volunteer' },
  SOCIAL_WORKER: { zh: '社工', en: 'Social worker' },
});
export const WorkerKindSchema = z.enum(WorkerKinds.codes);

export const ProviderTypes = labelled({
  SOCIAL_ORGANISATION: { zh: '社会组织', en: 'Social organisation' },
  COMPANY: { zh: '企业', en: 'Company' },
  PUBLIC_INSTITUTION: { zh: '公办机构', en: 'Public institution' },
});
export const ProviderTypeSchema = z.enum(ProviderTypes.codes);

export const LatLngSchema = z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) });
export const RegionCodeSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit region code');
export const FenSchema = z.number().int().nonnegative();
