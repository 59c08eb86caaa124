/** What settlement reads of a journal (charges and reversals only). */
export interface SettlementJournal {
  _id: string;
  kind: string;
  providerId?: string;
  visitId?: string;
  orderId?: string;
  elderId: string;
  caregiverId?: string;
  itemCode?: string;
  serviceDate?: string;
  serviceMonth?: string;
  startedAt?: string;
  endedAt?: string | null;
  settlementMonth?: string;
  quantity?: number;
  unitPriceFen?: number;
  grossFen?: number;
  subsidyFen?: number;
  copayFen?: number;
  heldFen?: number;
  /** Caregiver subsidies: the amount paid through the provider. */
  amountFen?: number;
  policyCode?: string;
  postedAt: Date;
}

export interface StatementTotals {
  lineCount: number;
  grossFen: number;
  subsidyFen: number;
  copayFen: number;
  adjustmentSubsidyFen: number;
  adjustmentCopayFen: number;
  operatingSubsidyFen: number;
  /** Caregiver entry subsidies and skill allowances paid through the provider. */
  caregiverSubsidyFen: number;
  payableFen: number;
  /** Subsidy held for want of budget: not payable until released. */
  heldFen: number;
}

export const emptyTotals = (): StatementTotals => ({
  lineCount: 0,
  grossFen: 0,
  subsidyFen: 0,
  copayFen: 0,
  adjustmentSubsidyFen: 0,
  adjustmentCopayFen: 0,
  operatingSubsidyFen: 0,
  caregiverSubsidyFen: 0,
  payableFen: 0,
  heldFen: 0,
});

export type LineKind = 'SERVICE' | 'LATE' | 'REVERSAL' | 'CAREGIVER';

/** A line is an adjustment when it is late (served in an earlier month) or a reversal. */
export function lineKind(j: Pick<SettlementJournal, 'kind' | 'serviceMonth'>, month: string): LineKind {
  if (j.kind === 'REVERSAL') return 'REVERSAL';
  if (j.kind === 'CAREGIVER_SUBSIDY') return 'CAREGIVER';
  return j.serviceMonth === month ? 'SERVICE' : 'LATE';
}

/** Adds one journal to a statement's totals (integer fen; reversals count negative). */
export function addLine(t: StatementTotals, j: SettlementJournal, month: string): void {
  const kind = lineKind(j, month);
  if (kind === 'CAREGIVER') {
    const held = j.heldFen ?? 0;
    t.lineCount++;
    t.caregiverSubsidyFen += (j.amountFen ?? 0) - held;
    t.heldFen += held;
    t.payableFen = t.subsidyFen + t.adjustmentSubsidyFen + t.caregiverSubsidyFen + t.operatingSubsidyFen;
    return;
  }
  const sign = kind === 'REVERSAL' ? -1 : 1;
  const held = j.heldFen ?? 0;
  const paidSubsidy = (j.subsidyFen ?? 0) - held;
  t.lineCount++;
  if (kind === 'SERVICE') {
    t.grossFen += j.grossFen ?? 0;
    t.subsidyFen += paidSubsidy;
    t.copayFen += j.copayFen ?? 0;
  } else {
    t.adjustmentSubsidyFen += sign * paidSubsidy;
    t.adjustmentCopayFen += sign * (j.copayFen ?? 0);
  }
  t.heldFen += sign * held;
  t.payableFen = t.subsidyFen + t.adjustmentSubsidyFen + t.caregiverSubsidyFen + t.operatingSubsidyFen;
}

/** Integer fen as a yuan string with exactly two decimals ("-12.05"), without floating point. */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
