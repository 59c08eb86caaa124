import { ageOn, periodOf } from './rounds.service';

describe('round periods', () => {
  it('puts every date of a period on the same round id and due date', () => {
    const a = periodOf('2026-06-03', 7);
    const b = periodOf(a.dueOn, 7);
    expect(b).toEqual(a);
    expect(periodOf('2026-06-03', 7).dueOn > '2026-06-02').toBe(true);
    const next = periodOf(a.dueOn.replace(/\d\d$/, (d) => String(Number(d) + 1).padStart(2, '0')), 7);
    expect(next.periodStart > a.periodStart).toBe(true);
  });
  it('computes age on a date', () => {
    expect(ageOn('1940-06-04', '2026-06-03')).toBe(85);
    expect(ageOn('1940-06-03', '2026-06-03')).toBe(86);
  });
});
