import type { OrderState } from '@yiyang/contracts';
import { AppError } from '@yiyang/service-kit';

/**
 * The order lifecycle (docs/adr/0007-dispatch.md):
 *
 *   PLACED → ASSIGNED → ACCEPTED → EN_ROUTE → CHECKED_IN → CHECKED_OUT → VERIFIED | FLAGGED → COMPLETED → RATED
 *
 * ASSIGNED means "offered to one caregiver". Declines and timeouts re-offer (ASSIGNED → ASSIGNED) or,
 * with nobody left, escalate to the provider operator (→ ESCALATED), who assigns by hand. An operator
 * may reassign an order that has not started yet (ACCEPTED/EN_ROUTE → ASSIGNED). Cancelling is
 * possible until the caregiver is at the door; a rejected flagged visit cancels the order.
 */
export const TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
  PLACED: ['ASSIGNED', 'ESCALATED', 'CANCELLED'],
  ASSIGNED: ['ASSIGNED', 'ACCEPTED', 'ESCALATED', 'CANCELLED'],
  ESCALATED: ['ASSIGNED', 'CANCELLED'],
  ACCEPTED: ['EN_ROUTE', 'CHECKED_IN', 'ASSIGNED', 'ESCALATED', 'CANCELLED'],
  EN_ROUTE: ['CHECKED_IN', 'ASSIGNED', 'ESCALATED', 'CANCELLED'],
  CHECKED_IN: ['CHECKED_OUT', 'FLAGGED'],
  CHECKED_OUT: ['VERIFIED', 'FLAGGED'],
  VERIFIED: ['COMPLETED'],
  FLAGGED: ['COMPLETED', 'CANCELLED'],
  COMPLETED: ['RATED'],
  RATED: [],
  CANCELLED: [],
};

export const OPEN_STATES: readonly OrderState[] = ['ASSIGNED', 'ACCEPTED', 'EN_ROUTE', 'CHECKED_IN'];

export function canTransition(from: OrderState, to: OrderState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Refuses an illegal transition, naming the current state (409). */
export function assertTransition(from: OrderState, to: OrderState): void {
  if (!canTransition(from, to)) {
    throw new AppError('DISPATCH.ILLEGAL_TRANSITION', 409, `Order is ${from}; it cannot become ${to}`, {
      messageZh: `订单当前状态为 ${from}，不能变更为 ${to}`,
      details: { currentState: from, requested: to, allowed: TRANSITIONS[from] },
    });
  }
}
