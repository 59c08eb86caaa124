import type { Benefit, CopayRule } from '../../policies/domain/policy';

/**
 * The pure arithmetic of a charge (ADR 0008, "order of application"). All amounts are integer fen;
 * rounding is half-up on non-negative amounts and happens once per step, so a subsidy part and its
 * co-payment always add up to the gross exactly.
 */

/** Gross = unit price × quantity (quantity may be fractional, e.g. 1.25 hours), rounded half-up to the fen. */
export function grossFen(unitPriceFen: number, quantity: number): number {
  if (!Number.isInteger(unitPriceFen) || unitPriceFen < 0) throw new Error(`unit price must be non-negative integer fen, got ${unitPriceFen}`);
  if (!(quantity >= 0)) throw new Error(`quantity must be non-negative, got ${quantity}`);
  return Math.round(unitPriceFen * quantity);
}

/** The elder's co-payment per unit under a co-payment rule: percentage or fixed, capped, never above the price. */
export function copayPerUnit(unitPriceFen: number, rule: CopayRule): number {
  const raw = rule.mode === 'PERCENT' ? Math.round((unitPriceFen * rule.percent) / 100) : rule.amountFen;
  const capped = rule.capFen === undefined ? raw : Math.min(raw, rule.capFen);
  return Math.min(capped, unitPriceFen);
}

/**
 * A per-unit subsidy (e.g. per meal): the fund pays the price minus the elder's co-payment, at most
 * `maxSubsidyFenPerUnit` per unit; whatever the cap leaves uncovered is co-payment too.
 */
export function perUnitSubsidy(unitPriceFen: number, quantity: number, benefit: Extract<Benefit, { kind: 'PER_UNIT_SUBSIDY' }>): { subsidyFen: number; copayFen: number } {
  const gross = grossFen(unitPriceFen, quantity);
  const perUnit = Math.min(unitPriceFen - copayPerUnit(unitPriceFen, benefit.copay), benefit.maxSubsidyFenPerUnit);
  const subsidy = Math.min(Math.round(perUnit * quantity), gross);
  return { subsidyFen: subsidy, copayFen: gross - subsidy };
}

export interface Applicable {
  policyCode: string;
  kind: Benefit['kind'];
  unusedBalance?: 'LAPSE' | 'CARRY_OVER';
  priority: number;
}

const RANK = (a: Applicable): number =>
  a.kind === 'PER_UNIT_SUBSIDY' ? 0 : a.kind === 'ONE_OFF_GRANT' ? 1 : a.kind === 'MONTHLY_ALLOWANCE' ? (a.unusedBalance === 'LAPSE' ? 2 : 3) : 9;

/**
 * Order of application: per-unit subsidies first (they fix the elder's own share of that unit and
 * end the split — a co-payment rule is meant to be paid by the elder, not from an allowance); then
 * one-off grants (earmarked money for exactly these items); then monthly allowances that lapse
 * (use-it-or-lose-it money before money that keeps); then carry-over allowances. Ties: lower
 * priority number first, then policy code, so the order is total and deterministic.
 */
export function orderOfApplication<T extends Applicable>(candidates: readonly T[]): T[] {
  const sorted = [...candidates].filter((c) => RANK(c) < 9).sort((a, b) => RANK(a) - RANK(b) || a.priority - b.priority || (a.policyCode < b.policyCode ? -1 : a.policyCode > b.policyCode ? 1 : 0));
  const firstPerUnit = sorted.find((c) => c.kind === 'PER_UNIT_SUBSIDY');
  return firstPerUnit ? [firstPerUnit] : sorted;
}

/** Splits an amount over funds by share percent; the fen left by flooring go to the largest shares first. */
export function fundShares<F extends { sharePercent: number }>(amountFen: number, funding: readonly F[]): { fund: F; amountFen: number }[] {
  const parts = funding.map((fund) => ({ fund, amountFen: Math.floor((amountFen * fund.sharePercent) / 100) }));
  let left = amountFen - parts.reduce((s, p) => s + p.amountFen, 0);
  const byShare = [...parts].sort((a, b) => b.fund.sharePercent - a.fund.sharePercent);
  for (let i = 0; left > 0; i = (i + 1) % byShare.length, left--) byShare[i].amountFen++;
  return parts;
}

/** A balanced journal: every line has one side, and debits equal credits. Throws if not. */
export interface JournalLine {
  account: string;
  debitFen: number;
  creditFen: number;
}
export function assertBalanced(lines: readonly JournalLine[]): void {
  let dr = 0;
  let cr = 0;
  for (const l of lines) {
    if (!Number.isInteger(l.debitFen) || !Number.isInteger(l.creditFen) || l.debitFen < 0 || l.creditFen < 0) throw new Error(`line ${l.account}: amounts must be non-negative integer fen`);
    dr += l.debitFen;
    cr += l.creditFen;
  }
  if (dr !== cr) throw new Error(`journal does not balance: debits ${dr} ≠ credits ${cr}`);
}

/** The reversing journal of a journal: the same lines with debit and credit swapped. */
export function reversingLines(lines: readonly JournalLine[]): JournalLine[] {
  return lines.map((l) => ({ account: l.account, debitFen: l.creditFen, creditFen: l.debitFen }));
}
