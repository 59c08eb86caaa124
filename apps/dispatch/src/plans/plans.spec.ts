import { occurrencesOn } from './plans.service';

describe('service plan occurrences', () => {
  const daily = { schedule: { kind: 'DAILY' as const, daysOfWeek: [], times: ['17:00', '11:30'] }, startsOn: '2026-06-01', endsOn: '2028-05-31', active: true };
  it('meals every day at 11:30 and 17:00, within the plan dates', () => {
    expect(occurrencesOn(daily, '2026-06-02')).toEqual(['11:30', '17:00']);
    expect(occurrencesOn(daily, '2026-05-31')).toEqual([]);
    expect(occurrencesOn(daily, '2028-06-01')).toEqual([]);
    expect(occurrencesOn({ ...daily, active: false }, '2026-06-02')).toEqual([]);
  });
  it('bathing weekly on Saturdays', () => {
    const weekly = { ...daily, schedule: { kind: 'WEEKLY' as const, daysOfWeek: [6], times: ['09:00'] } };
    expect(occurrencesOn(weekly, '2026-06-06')).toEqual(['09:00']); // a Saturday
    expect(occurrencesOn(weekly, '2026-06-05')).toEqual([]);
  });
});
