import { OrderStates } from '@yiyang/contracts';
import { AppError } from '@yiyang/service-kit';
import { assertTransition, canTransition, TRANSITIONS } from './order-state';

describe('order state machine', () => {
  it('walks the happy path', () => {
    const path = ['PLACED', 'ASSIGNED', 'ACCEPTED', 'EN_ROUTE', 'CHECKED_IN', 'CHECKED_OUT', 'VERIFIED', 'COMPLETED', 'RATED'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1], path[i])).toBe(true);
  });

  it('lets a flagged visit be approved (completed) or rejected (cancelled)', () => {
    expect(canTransition('CHECKED_OUT', 'FLAGGED')).toBe(true);
    expect(canTransition('FLAGGED', 'COMPLETED')).toBe(true);
    expect(canTransition('FLAGGED', 'CANCELLED')).toBe(true);
  });

  it('refuses an illegal transition naming the current state', () => {
    expect(() => assertTransition('COMPLETED', 'ACCEPTED')).toThrow(AppError);
    try {
      assertTransition('CHECKED_IN', 'CANCELLED');
    } catch (e) {
      expect((e as AppError).code).toBe('DISPATCH.ILLEGAL_TRANSITION');
      expect((e as AppError).status).toBe(409);
      expect((e as AppError).message).toContain('CHECKED_IN');
      expect((e as AppError).options.details).toMatchObject({ currentState: 'CHECKED_IN' });
    }
  });

  it('has terminal states with no way out and covers every state', () => {
    expect(TRANSITIONS.RATED).toEqual([]);
    expect(TRANSITIONS.CANCELLED).toEqual([]);
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...OrderStates].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(OrderStates).toContain(t);
  });

  it('never cancels once the caregiver is at the door', () => {
    for (const s of ['CHECKED_IN', 'CHECKED_OUT', 'VERIFIED', 'COMPLETED', 'RATED'] as const) expect(canTransition(s, 'CANCELLED')).toBe(false);
  });
});
