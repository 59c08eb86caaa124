import type { CapabilityLevel } from '@yiyang/contracts';

/**
 * GB/T 42195-2022 老年人能力评估规范 — the 26 items, their maximum scores and the level rules.
 * Kept as data so a later edition is a new file beside this one, and every stored assessment names
 * the edition that scored it.
 */
export const STANDARD = 'GB/T 42195-2022';
export const STANDARD_VERSION = '2022';

export const INDICATORS = {
  selfCare: { zh: '自理能力', en: 'Self-care', max: 32 },
  basicMobility: { zh: '基础运动能力', en: 'Basic mobility', max: 15 },
  mentalState: { zh: '精神状态', en: 'Mental state', max: 28 },
  perceptionAndSocial: { zh: '感知觉与社会参与', en: 'Perception and social participation', max: 15 },
} as const;
export type Indicator = keyof typeof INDICATORS;

export interface AssessmentItem {
  code: string;
  indicator: Indicator;
  zh: string;
  en: string;
  max: number;
}

const item = (indicator: Indicator, code: string, zh: string, en: string, max: number): AssessmentItem => ({ code, indicator, zh, en, max });

export const ITEMS: readonly AssessmentItem[] = [
  item('selfCare', 'eating', '进食', 'Eating', 4),
  item('selfCare', 'grooming', '修饰', 'Grooming', 4),
  item('selfCare', 'bathing', '洗澡', 'Bathing', 4),
  item('selfCare', 'dressingUpper', '穿/脱上衣', 'Dressing (upper body)', 4),
  item('selfCare', 'dressingLower', '穿/脱裤子和鞋袜', 'Dressing (trousers, shoes and socks)', 4),
  item('selfCare', 'urinationControl', '小便控制', 'Urination control', 4),
  item('selfCare', 'defecationControl', '大便控制', 'Defecation control', 4),
  item('selfCare', 'toileting', '如厕', 'Toileting', 4),
  item('basicMobility', 'bedPositionChange', '床上体位转移', 'Changing position in bed', 4),
  item('basicMobility', 'bedChairTransfer', '床椅转移', 'Bed–chair transfer', 4),
  item('basicMobility', 'walkingLevelGround', '平地行走', 'Walking on level ground', 4),
  item('basicMobility', 'stairs', '上下楼梯', 'Going up and down stairs', 3),
  item('mentalState', 'timeOrientation', '时间定向', 'Time orientation', 4),
  item('mentalState', 'spaceOrientation', '空间定向', 'Space orientation', 4),
  item('mentalState', 'personOrientation', '人物定向', 'Person orientation', 4),
  item('mentalState', 'memory', '记忆', 'Memory', 4),
  item('mentalState', 'comprehension', '理解能力', 'Comprehension', 4),
  item('mentalState', 'expression', '表达能力', 'Expression', 4),
  item('mentalState', 'aggressiveBehaviour', '攻击行为', 'Aggressive behaviour', 1),
  item('mentalState', 'depressiveSymptoms', '抑郁症状', 'Depressive symptoms', 1),
  item('mentalState', 'consciousnessLevel', '意识水平', 'Level of consciousness', 2),
  item('perceptionAndSocial', 'vision', '视力', 'Vision', 2),
  item('perceptionAndSocial', 'hearing', '听力', 'Hearing', 2),
  item('perceptionAndSocial', 'dailyAffairs', '执行日常事务', 'Managing daily affairs', 4),
  item('perceptionAndSocial', 'usingTransport', '使用交通工具外出', 'Going out by transport', 3),
  item('perceptionAndSocial', 'socialInteraction', '社会交往能力', 'Social interaction', 4),
];
export const ITEM_BY_CODE = new Map(ITEMS.map((i) => [i.code, i]));

/** Best to worst; "one level worse" is one step right, never past the end. */
export const LEVEL_ORDER: readonly CapabilityLevel[] = ['INTACT', 'MILD', 'MODERATE', 'SEVERE', 'COMPLETE_LOSS'];

export function levelForTotal(total: number): CapabilityLevel {
  if (total >= 90) return 'INTACT';
  if (total >= 66) return 'MILD';
  if (total >= 46) return 'MODERATE';
  if (total >= 30) return 'SEVERE';
  return 'COMPLETE_LOSS';
}

export const ADJUSTMENTS = {
  COMA: { zh: '昏迷，直接评定为完全失能', en: 'Coma: complete loss' },
  DEMENTIA_OR_MENTAL_DISORDER: { zh: '确诊痴呆或精神疾病，提高一个等级', en: 'Diagnosed dementia or mental disorder: one level worse' },
  RISK_EVENTS: { zh: '近30天内发生2次及以上跌倒、走失、噎食、自杀自伤等风险事件，提高一个等级', en: 'Two or more risk events in the last 30 days: one level worse' },
} as const;
export type AdjustmentCode = keyof typeof ADJUSTMENTS;

export interface AssessmentFlags {
  coma: boolean;
  diagnosedDementiaOrMentalDisorder: boolean;
  /** Falls, wandering off, choking, self-harm in the 30 days before the assessment. */
  riskEventsLast30Days: number;
}

export interface AppliedAdjustment {
  code: AdjustmentCode;
  from: CapabilityLevel;
  to: CapabilityLevel;
}

export interface Scoring {
  subtotals: Record<Indicator, number>;
  total: number;
  levelByTotal: CapabilityLevel;
  level: CapabilityLevel;
  adjustments: AppliedAdjustment[];
}

export interface ItemProblem {
  field: string;
  message: string;
  messageZh: string;
}

/** Every item present exactly once, each an integer within its range; the first problem names the item. */
export function checkItems(items: Record<string, unknown>): ItemProblem | null {
  for (const code of Object.keys(items)) {
    if (!ITEM_BY_CODE.has(code)) {
      return { field: `items.${code}`, message: `unknown item "${code}" (the standard has ${ITEMS.length} items)`, messageZh: `未知评估项目 ${code}` };
    }
  }
  for (const def of ITEMS) {
    const score = items[def.code];
    const range = `an integer from 0 to ${def.max}`;
    if (score === undefined || score === null) {
      return { field: `items.${def.code}`, message: `missing; must be ${range}`, messageZh: `缺少评估项目「${def.zh}」，应为 0–${def.max} 的整数` };
    }
    if (typeof score !== 'number' || !Number.isInteger(score) || score < 0 || score > def.max) {
      return { field: `items.${def.code}`, message: `must be ${range}`, messageZh: `「${def.zh}」得分应为 0–${def.max} 的整数` };
    }
  }
  return null;
}

/** Scores validated items (see checkItems) and applies the standard's adjustments in order. */
export function scoreAssessment(items: Record<string, number>, flags: AssessmentFlags): Scoring {
  const subtotals = { selfCare: 0, basicMobility: 0, mentalState: 0, perceptionAndSocial: 0 };
  for (const def of ITEMS) subtotals[def.indicator] += items[def.code];
  const total = subtotals.selfCare + subtotals.basicMobility + subtotals.mentalState + subtotals.perceptionAndSocial;
  const levelByTotal = levelForTotal(total);
  const adjustments: AppliedAdjustment[] = [];
  let level = levelByTotal;
  const apply = (code: AdjustmentCode, to: CapabilityLevel) => {
    adjustments.push({ code, from: level, to });
    level = to;
  };
  const worse = (l: CapabilityLevel) => LEVEL_ORDER[Math.min(LEVEL_ORDER.indexOf(l) + 1, LEVEL_ORDER.length - 1)];
  if (flags.coma) {
    // Coma decides the level outright; the other adjustments cannot make it any worse.
    apply('COMA', 'COMPLETE_LOSS');
  } else {
    if (flags.diagnosedDementiaOrMentalDisorder) apply('DEMENTIA_OR_MENTAL_DISORDER', worse(level));
    if (flags.riskEventsLast30Days >= 2) apply('RISK_EVENTS', worse(level));
  }
  return { subtotals, total, levelByTotal, level, adjustments };
}
