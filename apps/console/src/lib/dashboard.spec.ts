import { bounds, budgetTotals, childLevel, levelOfCode, periodParam, readKpis } from './dashboard';

describe('dashboard figures', () => {
  it('reads nested figures and normalises percentages to shares', () => {
    const k = readKpis({
      orders: { placed: 120, completed: 100, onTimeRate: 92.5, byState: { PLACED: 3, VERIFIED: 90 } },
      sos: { count: 4, medianResponseSeconds: 75 },
      alerts: { open: 2, byKind: [{ kind: 'FALL', count: 3 }] },
      rounds: { due: 40, completed: 35, overdue: 5 },
      satisfaction: { average: 4.6, ratings: 50 },
      subsidy: { spentFen: 150_000, budgetFen: 1_000_000 },
      providerRanking: [{ providerId: 'p1', name: '颐康', score: 91 }],
    });
    expect(k.onTimeShare).toBeCloseTo(0.925);
    expect(k.sosMedianResponseSeconds).toBe(75);
    expect(k.ordersByState).toEqual([
      { state: 'PLACED', count: 3 },
      { state: 'VERIFIED', count: 90 },
    ]);
    expect(k.alertsByKind).toEqual([{ kind: 'FALL', count: 3 }]);
    expect(k.providerRanking[0]).toMatchObject({ name: '颐康', score: 91 });
    expect(k.satisfaction).toBe(4.6);
  });

  it('shows dashes (null), not zeros, for figures the service did not send', () => {
    const k = readKpis({});
    expect(k.ordersPlaced).toBeNull();
    expect(k.onTimeShare).toBeNull();
    expect(k.providerRanking).toEqual([]);
  });

  it('drills county → street → community and stops there', () => {
    expect(levelOfCode('130203000000')).toBe('COUNTY');
    expect(levelOfCode('130203001000')).toBe('STREET');
    expect(levelOfCode('130203001001')).toBe('COMMUNITY');
    expect(childLevel('COUNTY')).toBe('STREET');
    expect(childLevel('STREET')).toBe('COMMUNITY');
    expect(childLevel('COMMUNITY')).toBeNull();
  });

  it('frames the map around the points with a walking margin', () => {
    const b = bounds([
      { lat: 39.6, lng: 118.1 },
      { lat: 39.7, lng: 118.2 },
    ]);
    expect(b?.minLat).toBeLessThan(39.6);
    expect(b?.maxLng).toBeGreaterThan(118.2);
    expect(bounds([])).toBeNull();
  });

  it('takes the budgets inside a region, or else the nearest enclosing level', () => {
    const budgets = [
      { regionCode: '130203000000', allocatedFen: 1_000, spentFen: 100 },
      { regionCode: '130203000000', allocatedFen: 500, spentFen: 50 },
      { regionCode: '130200000000', allocatedFen: 9_000, spentFen: 900 },
    ];
    expect(budgetTotals(budgets, '130203000000')).toMatchObject({ allocatedFen: 1_500, spentFen: 150 });
    expect(budgetTotals(budgets, '130203001000')).toMatchObject({ allocatedFen: 1_500, spentFen: 150, regionCode: '130203000000' });
    expect(budgetTotals(budgets, '130204000000')).toMatchObject({ allocatedFen: 9_000 });
    expect(budgetTotals([], '130203000000')).toBeNull();
  });

  it("reads monitoring's dashboard answer as committed", () => {
    const k = readKpis({
      orders: { placed: 10, completed: 8, arrivals: 9, onTimeRate: 0.889 },
      sosResponse: { count: 2, medianSeconds: 45, p90Seconds: 90 },
      visits: { verified: 7, flagged: 1 },
      satisfaction: { ratings: 4, averageStars: 4.5, complaints: 0 },
      alerts: { raised: 3, byKind: { SOS: { label: {}, raised: 2 }, FALL: { label: {}, raised: 1 } } },
      subsidy: { spentFen: 500, budget: { budgets: 0, allocatedFen: 0, spentFen: 0 } },
      providers: { ranking: [{ rank: 1, providerId: 'p1', score: 88.5, averageStars: 4.5, completedOrders: 8 }] },
    });
    expect(k.sosMedianResponseSeconds).toBe(45);
    expect(k.satisfaction).toBe(4.5);
    expect(k.alertsByKind).toEqual([
      { kind: 'SOS', count: 2 },
      { kind: 'FALL', count: 1 },
    ]);
    expect(k.budgetFen).toBeNull();
    expect(k.subsidySpentFen).toBe(500);
    expect(k.providerRanking[0]).toMatchObject({ providerId: 'p1', score: 88.5, orders: 8 });
    expect(k.visitsFlagged).toBe(1);
  });

  it('asks for a China-time day or month', () => {
    const at = new Date('2026-11-30T17:00:00Z'); // 2026-12-01 01:00 in Shanghai
    expect(periodParam('today', at)).toBe('2026-12-01');
    expect(periodParam('month', at)).toBe('2026-12');
    expect(periodParam('lastMonth', at)).toBe('2026-11');
  });
});
