import { assertBalanced, copayPerUnit, fundShares, grossFen, orderOfApplication, perUnitSubsidy, reversingLines } from './split';

describe('charge arithmetic (integer fen)', () => {
  it('gross is price × quantity rounded half-up to the fen', () => {
    expect(grossFen(4000, 1.25)).toBe(5000);
    expect(grossFen(333, 1.5)).toBe(500); // 499.5 → 500
    expect(() => grossFen(10.5, 1)).toThrow('integer fen');
  });

  it('co-payment: percentage or fixed, capped, never above the price', () => {
    expect(copayPerUnit(1500, { mode: 'PERCENT', percent: 30 })).toBe(450);
    expect(copayPerUnit(1500, { mode: 'PERCENT', percent: 30, capFen: 400 })).toBe(400);
    expect(copayPerUnit(1500, { mode: 'FIXED', amountFen: 300 })).toBe(300);
    expect(copayPerUnit(200, { mode: 'FIXED', amountFen: 300 })).toBe(200);
  });

  it('per-meal subsidy: the fund pays price minus co-pay up to the per-unit cap, the elder the rest', () => {
    const meal = { kind: 'PER_UNIT_SUBSIDY' as const, maxSubsidyFenPerUnit: 800, copay: { mode: 'PERCENT' as const, percent: 30 } };
    expect(perUnitSubsidy(1000, 1, meal)).toEqual({ subsidyFen: 700, copayFen: 300 });
    expect(perUnitSubsidy(1500, 2, meal)).toEqual({ subsidyFen: 1600, copayFen: 1400 }); // capped at 8 yuan a meal
    const sum = perUnitSubsidy(999, 3, meal);
    expect(sum.subsidyFen + sum.copayFen).toBe(grossFen(999, 3));
  });

  it('order of application: per-unit alone; else grants, lapsing, then carry-over allowances, by priority and code', () => {
    const order = orderOfApplication([
      { policyCode: 'B-CARRY', kind: 'MONTHLY_ALLOWANCE', unusedBalance: 'CARRY_OVER', priority: 1 },
      { policyCode: 'Z-LAPSE', kind: 'MONTHLY_ALLOWANCE', unusedBalance: 'LAPSE', priority: 100 },
      { policyCode: 'A-LAPSE', kind: 'MONTHLY_ALLOWANCE', unusedBalance: 'LAPSE', priority: 100 },
      { policyCode: 'GRANT', kind: 'ONE_OFF_GRANT', priority: 500 },
      { policyCode: 'OPS', kind: 'OPERATING_SUBSIDY', priority: 0 },
    ]);
    expect(order.map((o) => o.policyCode)).toEqual(['GRANT', 'A-LAPSE', 'Z-LAPSE', 'B-CARRY']);
    const withMeal = orderOfApplication([
      { policyCode: 'A-LAPSE', kind: 'MONTHLY_ALLOWANCE', unusedBalance: 'LAPSE', priority: 100 },
      { policyCode: 'MEAL', kind: 'PER_UNIT_SUBSIDY', priority: 100 },
    ]);
    expect(withMeal.map((o) => o.policyCode)).toEqual(['MEAL']);
  });

  it('fund shares add up exactly; the odd fen go to the largest share', () => {
    const funds = [{ f: 'CENTRAL_PILOT', sharePercent: 50 }, { f: 'PROVINCIAL', sharePercent: 30 }, { f: 'COUNTY', sharePercent: 20 }];
    const parts = fundShares(1001, funds);
    expect(parts.map((p) => p.amountFen)).toEqual([501, 300, 200]);
    expect(fundShares(7, [{ sharePercent: 33 }, { sharePercent: 67 }]).map((p) => p.amountFen)).toEqual([2, 5]);
  });

  it('journals must balance; a reversal swaps every side', () => {
    const lines = [
      { account: 'benefit:a', debitFen: 700, creditFen: 0 },
      { account: 'copay:e', debitFen: 300, creditFen: 0 },
      { account: 'provider:p', debitFen: 0, creditFen: 1000 },
    ];
    expect(() => assertBalanced(lines)).not.toThrow();
    expect(() => assertBalanced([...lines, { account: 'x', debitFen: 1, creditFen: 0 }])).toThrow('does not balance');
    const rev = reversingLines(lines);
    assertBalanced(rev);
    expect(rev[2]).toEqual({ account: 'provider:p', debitFen: 1000, creditFen: 0 });
  });
});
