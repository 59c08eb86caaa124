import { addLine, emptyTotals, statementMonthOf, yuan } from './statement';

const at = (iso: string) => new Date(iso);

describe('statement rules', () => {
  it('a journal goes on its month unless that statement was approved before it was posted', () => {
    const approvals = new Map([
      ['2026-02', at('2026-03-05T02:00:00Z')],
      ['2026-03', at('2026-04-03T02:00:00Z')],
    ]);
    expect(statementMonthOf({ settlementMonth: '2026-02', postedAt: at('2026-02-27T00:00:00Z') }, approvals)).toBe('2026-02');
    // Verified late, after February was approved: next open month, March — unless March is closed too.
    expect(statementMonthOf({ settlementMonth: '2026-02', postedAt: at('2026-03-10T00:00:00Z') }, approvals)).toBe('2026-03');
    expect(statementMonthOf({ settlementMonth: '2026-02', postedAt: at('2026-04-10T00:00:00Z') }, approvals)).toBe('2026-04');
    expect(statementMonthOf({ settlementMonth: '2026-05', postedAt: at('2026-05-10T00:00:00Z') }, approvals)).toBe('2026-05');
  });

  it('totals: service lines, late lines and reversals as adjustments, held subsidy not payable', () => {
    const t = emptyTotals();
    const base = { elderId: 'e', postedAt: at('2026-03-01T00:00:00Z') };
    addLine(t, { ...base, _id: 'a', kind: 'CHARGE', serviceMonth: '2026-03', grossFen: 5000, subsidyFen: 4000, copayFen: 1000, heldFen: 0 }, '2026-03');
    addLine(t, { ...base, _id: 'b', kind: 'CHARGE', serviceMonth: '2026-03', grossFen: 3000, subsidyFen: 3000, copayFen: 0, heldFen: 1000 }, '2026-03');
    addLine(t, { ...base, _id: 'c', kind: 'CHARGE', serviceMonth: '2026-02', grossFen: 2000, subsidyFen: 2000, copayFen: 0, heldFen: 0 }, '2026-03');
    addLine(t, { ...base, _id: 'd', kind: 'REVERSAL', serviceMonth: '2026-02', grossFen: 1500, subsidyFen: 1000, copayFen: 500, heldFen: 0 }, '2026-03');
    expect(t).toMatchObject({ lineCount: 4, grossFen: 8000, subsidyFen: 6000, copayFen: 1000, adjustmentSubsidyFen: 1000, adjustmentCopayFen: -500, heldFen: 1000, payableFen: 7000 });
  });

  it('formats fen as yuan exactly', () => {
    expect([yuan(0), yuan(5), yuan(12345), yuan(-1205)]).toEqual(['0.00', '0.05', '123.45', '-12.05']);
  });
});
