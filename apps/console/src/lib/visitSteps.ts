/** What a family sees of an order: four steps, and where the order stands on them. */
export const VISIT_STEPS = [
  { key: 'ASSIGNED', zh: '已派护理员', en: 'Caregiver assigned' },
  { key: 'CHECKED_IN', zh: '已上门服务', en: 'Checked in' },
  { key: 'CHECKED_OUT', zh: '服务结束', en: 'Checked out' },
  { key: 'VERIFIED', zh: '已核验', en: 'Verified' },
] as const;

const STEP_OF_STATE: Record<string, number> = {
  PLACED: -1,
  ESCALATED: -1,
  ASSIGNED: 0,
  ACCEPTED: 0,
  EN_ROUTE: 0,
  CHECKED_IN: 1,
  CHECKED_OUT: 2,
  FLAGGED: 2,
  VERIFIED: 3,
  COMPLETED: 3,
  RATED: 3,
};

/** Index of the last step reached (-1 = waiting for a caregiver); cancelled orders have none. */
export function stepIndex(state: string): number {
  return STEP_OF_STATE[state] ?? -1;
}

/** Antd Steps' `current` and `status` for an order state. */
export function stepsView(state: string): { current: number; status: 'wait' | 'process' | 'finish' | 'error' } {
  if (state === 'CANCELLED') return { current: 0, status: 'error' };
  const i = stepIndex(state);
  if (i >= VISIT_STEPS.length - 1) return { current: VISIT_STEPS.length - 1, status: 'finish' };
  // The step in progress is the next one after the last reached.
  return { current: i + 1, status: state === 'FLAGGED' || state === 'ESCALATED' ? 'error' : 'process' };
}

/** A family may rate a visit once it is over and verified (or approved), and only once. */
export const canRate = (state: string, rated: boolean): boolean => !rated && ['VERIFIED', 'COMPLETED'].includes(state);

/** Orders still moving, newest first, then the finished ones. */
export function sortForFamily<T extends { state: string; placedAt: string }>(orders: T[]): T[] {
  const done = (s: string) => ['COMPLETED', 'RATED', 'CANCELLED'].includes(s);
  return [...orders].sort((a, b) => Number(done(a.state)) - Number(done(b.state)) || b.placedAt.localeCompare(a.placedAt));
}
