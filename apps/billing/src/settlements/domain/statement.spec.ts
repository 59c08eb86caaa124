import { AGG_BUCKETS, bucketOf, lineDelta, sumBuckets } from '../aggregates';
import { addLine, emptyTotals, yuan } from './statement';

const at = (iso: string) => new Date(iso);

describe('statement rules', () => {
  it('a journal adds one line to its bucket; buckets sum to the statement; caregiver subsidies are payable', () => {
    const base = { elderId: 'e', postedAt: at('2026-03-01T00:00:00Z') };
    expect(bucketOf('chg:vis-1')).toBe(bucketOf('chg:vis-1'));
    expect(new Set(Array.from({ length: 2000 }, (_, i) => bucketOf(`chg:vis-${i}`))).size).toBe(AGG_BUCKETS);
    const service = lineDelta({ ...base, _id: 'a', kind: 'CHARGE', serviceMonth: '2026-03', grossFen: 5000, subsidyFen: 4000, copayFen: 1000, heldFen: 500 }, '2026-03');
    expect(service).toMatchObject({ lineCount: 1, grossFen: 5000, subsidyFen: 3500, copayFen: 1000, heldFen: 500, adjustmentSubsidyFen: 0 });
    const late = lineDelta({ ...base, _id: 'b', kind: 'CHARGE', serviceMonth: '2026-02', grossFen: 2000, subsidyFen: 2000, copayFen: 0, heldFen: 0 }, '2026-03');
    expect(late).toMatchObject({ lineCount: 1, grossFen: 0, subsidyFen: 0, adjustmentSubsidyFen: 2000 });
    const caregiver = lineDelta({ ...base, _id: 'c', kind: 'CAREGIVER_SUBSIDY', serviceMonth: '2026-03', amountFen: 20000 }, '2026-03');
    expect(caregiver).toMatchObject({ lineCount: 1, caregiverSubsidyFen: 20000, grossFen: 0 });
    const totals = sumBuckets([
      { providerId: 'p', totals: service },
      { providerId: 'p', totals: late },
      { providerId: 'p', totals: caregiver },
      { providerId: 'q', totals: service },
    ]);
    expect(totals.get('p')).toMatchObject({ lineCount: 3, payableFen: 3500 + 2000 + 20000, heldFen: 500 });
    expect(totals.get('q')).toMatchObject({ lineCount: 1, payableFen: 3500 });
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
