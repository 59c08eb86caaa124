/** Words for the codes the services send, in both languages. Unknown codes show as they are. */
type L = Record<string, { zh: string; en: string }>;

export const ORDER_STATES: L = {
  PLACED: { zh: '已下单', en: 'Placed' },
  ASSIGNED: { zh: '已派单', en: 'Assigned' },
  ACCEPTED: { zh: '已接单', en: 'Accepted' },
  EN_ROUTE: { zh: '护理员在路上', en: 'On the way' },
  CHECKED_IN: { zh: '已到达开始服务', en: 'Checked in' },
  CHECKED_OUT: { zh: '服务已结束', en: 'Checked out' },
  VERIFIED: { zh: '已核验', en: 'Verified' },
  FLAGGED: { zh: '待人工核验', en: 'Flagged' },
  COMPLETED: { zh: '已完成', en: 'Completed' },
  RATED: { zh: '已评价', en: 'Rated' },
  CANCELLED: { zh: '已取消', en: 'Cancelled' },
  ESCALATED: { zh: '派单困难，需处理', en: 'Escalated' },
};

export const ORDER_STATE_COLORS: Record<string, string> = {
  PLACED: 'default',
  ASSIGNED: 'processing',
  ACCEPTED: 'processing',
  EN_ROUTE: 'processing',
  CHECKED_IN: 'cyan',
  CHECKED_OUT: 'blue',
  VERIFIED: 'green',
  FLAGGED: 'orange',
  COMPLETED: 'green',
  RATED: 'green',
  CANCELLED: 'default',
  ESCALATED: 'red',
};

export const ESCALATION_REASONS: L = {
  NO_CANDIDATE: { zh: '附近无可派护理员', en: 'No caregiver available' },
  ALL_OFFERS_DECLINED: { zh: '派单均被拒绝', en: 'Every offer declined' },
  NO_CONTRACTED_PROVIDER: { zh: '该社区无签约机构', en: 'No contracted provider' },
};

export const ALERT_KINDS: L = {
  SOS: { zh: '一键呼叫', en: 'SOS pressed' },
  FALL: { zh: '跌倒', en: 'Fall detected' },
  INACTIVITY: { zh: '长时间无活动', en: 'No activity' },
  VITALS: { zh: '生命体征异常', en: 'Vital signs out of range' },
  DEVICE_SILENT: { zh: '设备离线', en: 'Device silent' },
  LOW_BATTERY: { zh: '电量低', en: 'Low battery' },
  SMOKE: { zh: '烟雾报警', en: 'Smoke' },
  GAS: { zh: '燃气泄漏', en: 'Gas leak' },
};

export const SEVERITIES: L = {
  CRITICAL: { zh: '紧急', en: 'Critical' },
  HIGH: { zh: '高', en: 'High' },
  MEDIUM: { zh: '中', en: 'Medium' },
  LOW: { zh: '低', en: 'Low' },
};
export const SEVERITY_COLORS: Record<string, string> = { CRITICAL: 'red', HIGH: 'volcano', MEDIUM: 'gold', LOW: 'blue' };

export const ALERT_STATES: L = {
  OPEN: { zh: '待处理', en: 'Open' },
  RAISED: { zh: '待处理', en: 'Open' },
  ESCALATED: { zh: '已升级', en: 'Escalated' },
  ACKNOWLEDGED: { zh: '已响应', en: 'Acknowledged' },
  RESOLVED: { zh: '已解除', en: 'Resolved' },
  FALSE_ALARM: { zh: '误报', en: 'False alarm' },
};

export const VISIT_FLAGS: L = {
  OUTSIDE_GEOFENCE: { zh: '签到位置离老人住址过远', en: 'Checked in far from home' },
  OVERLAP: { zh: '同一护理员服务时间重叠', en: 'Overlapping visits' },
  IMPOSSIBLE_TRAVEL: { zh: '两次服务之间路程不可能完成', en: 'Impossible travel' },
  TOO_SHORT: { zh: '服务时长明显短于预约', en: 'Much shorter than booked' },
  MISSING_CHECK_OUT: { zh: '缺少签退', en: 'No check-out' },
};

export const VISIT_STATES: L = {
  IN_PROGRESS: { zh: '服务中', en: 'In progress' },
  VERIFIED: { zh: '已核验', en: 'Verified' },
  FLAGGED: { zh: '待人工核验', en: 'Flagged' },
  APPROVED: { zh: '已通过', en: 'Approved' },
  REJECTED: { zh: '已驳回', en: 'Rejected' },
};

export const SETTLEMENT_STATES: L = {
  DRAFT: { zh: '待审批（草稿）', en: 'Draft, awaiting approval' },
  ISSUED: { zh: '待审批', en: 'Awaiting approval' },
  APPROVED: { zh: '已审批', en: 'Approved' },
  PAID: { zh: '已支付', en: 'Paid' },
};

export const ELDER_CATEGORIES: L = {
  LIVING_ALONE: { zh: '独居', en: 'Living alone' },
  EMPTY_NEST: { zh: '空巢', en: 'Empty nest' },
  LEFT_BEHIND: { zh: '留守', en: 'Left behind' },
  EXTREME_POVERTY: { zh: '特困', en: 'Extreme poverty' },
  ADVANCED_AGE: { zh: '高龄', en: 'Advanced age' },
  SEVERELY_DISABLED: { zh: '重残', en: 'Severely disabled' },
  DISABLED: { zh: '失能/半失能', en: 'Disabled' },
  SPECIAL_FAMILY_PLANNING: { zh: '计生特殊家庭', en: 'Special family-planning family' },
  LOW_INCOME: { zh: '低保', en: 'Low income' },
};

export const label = (dict: L, code: string | null | undefined, lang: string): string => {
  if (!code) return '—';
  const l = dict[code];
  return l ? (lang === 'en' ? l.en : l.zh) : code;
};
