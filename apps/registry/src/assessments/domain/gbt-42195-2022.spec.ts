import { checkItems, INDICATORS, ITEMS, levelForTotal, scoreAssessment } from './gbt-42195-2022';

const none = { coma: false, diagnosedDementiaOrMentalDisorder: false, riskEventsLast30Days: 0 };
const full = (): Record<string, number> => Object.fromEntries(ITEMS.map((i) => [i.code, i.max]));
/** Full marks minus `lost` points, taken from the first items. */
function withTotal(total: number): Record<string, number> {
  const items = full();
  let lost = 90 - total;
  for (const i of ITEMS) {
    const take = Math.min(lost, items[i.code]);
    items[i.code] -= take;
    lost -= take;
  }
  return items;
}

describe('GB/T 42195-2022 capability assessment', () => {
  it('declares 26 items whose maxima add up to each indicator and to 90', () => {
    expect(ITEMS).toHaveLength(26);
    for (const [indicator, { max }] of Object.entries(INDICATORS)) {
      expect(ITEMS.filter((i) => i.indicator === indicator).reduce((s, i) => s + i.max, 0)).toBe(max);
    }
    expect(ITEMS.filter((i) => i.indicator === 'selfCare')).toHaveLength(8);
    expect(ITEMS.filter((i) => i.indicator === 'basicMobility')).toHaveLength(4);
    expect(ITEMS.filter((i) => i.indicator === 'mentalState')).toHaveLength(9);
    expect(ITEMS.filter((i) => i.indicator === 'perceptionAndSocial')).toHaveLength(5);
  });

  it.each([
    [90, 'INTACT'],
    [89, 'MILD'],
    [66, 'MILD'],
    [65, 'MODERATE'],
    [46, 'MODERATE'],
    [45, 'SEVERE'],
    [30, 'SEVERE'],
    [29, 'COMPLETE_LOSS'],
    [0, 'COMPLETE_LOSS'],
  ])('total %i is %s', (total, level) => {
    expect(levelForTotal(total)).toBe(level);
    const scored = scoreAssessment(withTotal(total), none);
    expect(scored).toMatchObject({ total, level, levelByTotal: level, adjustments: [] });
  });

  it('adds up each indicator', () => {
    expect(scoreAssessment(full(), none).subtotals).toEqual({ selfCare: 32, basicMobility: 15, mentalState: 28, perceptionAndSocial: 15 });
  });

  it('coma means complete loss, whatever the total', () => {
    expect(scoreAssessment(full(), { ...none, coma: true, diagnosedDementiaOrMentalDisorder: true })).toMatchObject({
      level: 'COMPLETE_LOSS',
      adjustments: [{ code: 'COMA', from: 'INTACT', to: 'COMPLETE_LOSS' }],
    });
  });

  it('diagnosed dementia or mental disorder makes it one level worse', () => {
    expect(scoreAssessment(withTotal(70), { ...none, diagnosedDementiaOrMentalDisorder: true })).toMatchObject({
      levelByTotal: 'MILD',
      level: 'MODERATE',
      adjustments: [{ code: 'DEMENTIA_OR_MENTAL_DISORDER', from: 'MILD', to: 'MODERATE' }],
    });
  });

  it('two or more risk events in 30 days make it one level worse; one does not', () => {
    expect(scoreAssessment(withTotal(50), { ...none, riskEventsLast30Days: 1 }).level).toBe('MODERATE');
    expect(scoreAssessment(withTotal(50), { ...none, riskEventsLast30Days: 2 })).toMatchObject({
      level: 'SEVERE',
      adjustments: [{ code: 'RISK_EVENTS', from: 'MODERATE', to: 'SEVERE' }],
    });
  });

  it('applies both one-level adjustments, capped at complete loss', () => {
    expect(scoreAssessment(withTotal(90), { ...none, diagnosedDementiaOrMentalDisorder: true, riskEventsLast30Days: 3 }).level).toBe('MODERATE');
    expect(scoreAssessment(withTotal(35), { ...none, diagnosedDementiaOrMentalDisorder: true, riskEventsLast30Days: 3 })).toMatchObject({
      level: 'COMPLETE_LOSS',
      adjustments: [
        { code: 'DEMENTIA_OR_MENTAL_DISORDER', from: 'SEVERE', to: 'COMPLETE_LOSS' },
        { code: 'RISK_EVENTS', from: 'COMPLETE_LOSS', to: 'COMPLETE_LOSS' },
      ],
    });
  });

  it('names the item that is missing, unknown, out of range or not an integer', () => {
    const { stairs: _, ...missing } = full();
    expect(checkItems(missing)).toMatchObject({ field: 'items.stairs', message: 'missing; must be an integer from 0 to 3' });
    expect(checkItems({ ...full(), flying: 1 })?.field).toBe('items.flying');
    expect(checkItems({ ...full(), stairs: 4 })).toMatchObject({ field: 'items.stairs', message: 'must be an integer from 0 to 3' });
    expect(checkItems({ ...full(), vision: 1.5 })?.field).toBe('items.vision');
    expect(checkItems({ ...full(), memory: -1 })?.field).toBe('items.memory');
    expect(checkItems({ ...full(), memory: '3' })?.field).toBe('items.memory');
    expect(checkItems(full())).toBeNull();
  });
});
