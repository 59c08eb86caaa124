import type { ServiceCategory } from '@yiyang/contracts';

export interface SeedItem {
  code: string;
  nameZh: string;
  nameEn: string;
  category: ServiceCategory;
  unit: 'PER_VISIT' | 'PER_HOUR' | 'PER_MEAL' | 'PER_DAY' | 'PER_ITEM';
  defaultDurationMinutes: number;
}

/**
 * The starter menu (点单式服务菜单): the "helps" cities buy for home and community care, as they
 * appear in public service lists. Durations are typical booking lengths, used by dispatch to plan
 * a caregiver's day until a provider sets its own. Exported for the demo loader; also upserted by
 * POST /catalogue/items/seed.
 */
export const CATALOGUE_SEED: readonly SeedItem[] = [
  { code: 'MEAL_AT_CANTEEN', nameZh: '长者食堂助餐', nameEn: 'Meal at an elder canteen', category: 'MEALS', unit: 'PER_MEAL', defaultDurationMinutes: 45 },
  { code: 'MEAL_DELIVERY', nameZh: '送餐上门', nameEn: 'Meal delivery to the home', category: 'MEALS', unit: 'PER_MEAL', defaultDurationMinutes: 30 },
  { code: 'HOME_CLEANING', nameZh: '居家保洁', nameEn: 'Home cleaning', category: 'CLEANING', unit: 'PER_HOUR', defaultDurationMinutes: 120 },
  { code: 'LAUNDRY', nameZh: '衣物被褥清洗', nameEn: 'Laundry and bedding', category: 'CLEANING', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  { code: 'HAIRCUT', nameZh: '上门理发', nameEn: 'Haircut at home', category: 'CLEANING', unit: 'PER_VISIT', defaultDurationMinutes: 30 },
  { code: 'BATHING_AT_HOME', nameZh: '上门助浴', nameEn: 'Bathing at home', category: 'BATHING', unit: 'PER_VISIT', defaultDurationMinutes: 90 },
  { code: 'BATHING_AT_CENTRE', nameZh: '助浴点助浴', nameEn: 'Bathing at a centre', category: 'BATHING', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  { code: 'EMERGENCY_HELP', nameZh: '紧急救助', nameEn: 'Emergency help', category: 'EMERGENCY', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  { code: 'MEDICAL_ESCORT', nameZh: '陪同就医', nameEn: 'Medical escort', category: 'MEDICAL', unit: 'PER_VISIT', defaultDurationMinutes: 180 },
  { code: 'MEDICATION_REMINDER', nameZh: '用药提醒', nameEn: 'Medication reminder', category: 'MEDICAL', unit: 'PER_VISIT', defaultDurationMinutes: 15 },
  { code: 'MOBILITY_ASSISTANCE', nameZh: '助行陪护', nameEn: 'Mobility assistance', category: 'MOBILITY', unit: 'PER_HOUR', defaultDurationMinutes: 60 },
  { code: 'ERRANDS_SHOPPING', nameZh: '代买代办', nameEn: 'Shopping and errands', category: 'ERRANDS', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  { code: 'REHAB_PHYSIOTHERAPY', nameZh: '康复理疗', nameEn: 'Rehabilitation physiotherapy', category: 'REHABILITATION', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  { code: 'DAY_CARE', nameZh: '日间照料', nameEn: 'Day care', category: 'DAY_CARE', unit: 'PER_DAY', defaultDurationMinutes: 480 },
  { code: 'RESPITE_CARE', nameZh: '喘息服务', nameEn: 'Respite care', category: 'RESPITE', unit: 'PER_DAY', defaultDurationMinutes: 1_440 },
  { code: 'EMOTIONAL_SUPPORT_VISIT', nameZh: '精神慰藉探访', nameEn: 'Emotional support visit', category: 'EMOTIONAL_SUPPORT', unit: 'PER_VISIT', defaultDurationMinutes: 60 },
  { code: 'PSYCHOLOGICAL_COUNSELLING', nameZh: '心理咨询', nameEn: 'Psychological counselling', category: 'EMOTIONAL_SUPPORT', unit: 'PER_HOUR', defaultDurationMinutes: 60 },
  { code: 'HEALTH_CHECK', nameZh: '健康检查', nameEn: 'Health check', category: 'HEALTH_MONITORING', unit: 'PER_VISIT', defaultDurationMinutes: 30 },
  { code: 'CHRONIC_DISEASE_MONITORING', nameZh: '慢病监测（血压血糖）', nameEn: 'Chronic disease monitoring (blood pressure, glucose)', category: 'HEALTH_MONITORING', unit: 'PER_VISIT', defaultDurationMinutes: 20 },
  { code: 'HOME_ADAPTATION_ASSESSMENT', nameZh: '适老化改造评估', nameEn: 'Home adaptation assessment', category: 'HOME_ADAPTATION', unit: 'PER_ITEM', defaultDurationMinutes: 90 },
];
