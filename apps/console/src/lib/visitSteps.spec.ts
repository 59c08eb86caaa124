import { canRate, sortForFamily, stepsView } from './visitSteps';

describe('what the family sees of a visit', () => {
  it('moves through assigned → checked in → checked out → verified', () => {
    expect(stepsView('PLACED')).toEqual({ current: 0, status: 'process' });
    expect(stepsView('ACCEPTED')).toEqual({ current: 1, status: 'process' });
    expect(stepsView('CHECKED_IN')).toEqual({ current: 2, status: 'process' });
    expect(stepsView('CHECKED_OUT')).toEqual({ current: 3, status: 'process' });
    expect(stepsView('VERIFIED')).toEqual({ current: 3, status: 'finish' });
    expect(stepsView('FLAGGED').status).toBe('error');
    expect(stepsView('CANCELLED').status).toBe('error');
  });

  it('lets a family rate once, after verification', () => {
    expect(canRate('VERIFIED', false)).toBe(true);
    expect(canRate('CHECKED_OUT', false)).toBe(false);
    expect(canRate('COMPLETED', true)).toBe(false);
  });

  it('lists orders still moving first, newest first', () => {
    const sorted = sortForFamily([
      { state: 'RATED', placedAt: '2026-11-23T03:00:00Z' },
      { state: 'ASSIGNED', placedAt: '2026-11-23T01:00:00Z' },
      { state: 'PLACED', placedAt: '2026-11-23T02:00:00Z' },
    ]);
    expect(sorted.map((o) => o.state)).toEqual(['PLACED', 'ASSIGNED', 'RATED']);
  });
});
