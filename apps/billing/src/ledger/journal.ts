import type { FundSource } from '@yiyang/contracts';
import type { OutboxEntry } from '@yiyang/messaging';
import type { JournalLine } from './domain/split';

/** One subsidy share of a charge: from one policy's account, funded by one budget. */
export interface ChargePart {
  policyId: string;
  policyCode: string;
  kind: string;
  accountId: string;
  /** The balance document the draw was reserved on (null for per-unit subsidies, which have no balance). */
  balanceId: string | null;
  fundSource: FundSource;
  budgetId: string;
  amountFen: number;
  /** The budget could not cover it: not paid to the provider until released, not charged to the elder. */
  held: boolean;
}

/**
 * A journal entry of the append-only ledger. One document per business fact, with a deterministic
 * `_id` derived from its source (`chg:<visitId>`, `rev:<visitId>`, `crd:<account>:<period>`), so the
 * unique `_id` index refuses every second copy. Lines are double-entry and always balance.
 */
export interface Journal {
  _id: string;
  kind: 'CHARGE' | 'REVERSAL' | 'CREDIT' | 'CAREGIVER_SUBSIDY';
  sourceEventId: string;
  /** The elder concerned ('' for caregiver subsidies, which concern a caregiver). */
  elderId: string;
  regionCode: string;
  regionPath: string[];
  /** Every benefit account the journal touches (for balances by account). */
  accountIds: string[];
  lines: JournalLine[];
  postedAt: Date;
  /** The id of the event that announced this journal (ChargePosted / ChargeReversed), for audit and tracing. */
  eventId?: string;
  // Charges and reversals:
  visitId?: string;
  orderId?: string;
  providerId?: string;
  caregiverId?: string;
  itemCode?: string;
  category?: string;
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
  parts?: ChargePart[];
  reverses?: string;
  reason?: string;
  // Credits and caregiver subsidies:
  policyCode?: string;
  period?: string;
  amountFen?: number;
  /**
   * The events announcing this journal, stored with it in the same write. They are copied into the
   * elder's outbox document right after (and again on any retry), so the relay polls one small
   * document per elder instead of scanning the ledger.
   */
  events?: OutboxEntry[];
  /** The outbox document the events are copied into (default: the elder's, `lob:<elderId>`). */
  outboxKey?: string;
}

export const chargeIdOf = (visitId: string) => `chg:${visitId}`;
export const reversalIdOf = (visitId: string) => `rev:${visitId}`;
/** Entry subsidy: once per caregiver and policy; skill allowance: once per caregiver, policy and month. */
export const caregiverSubsidyIdOf = (policyCode: string, caregiverId: string, month?: string) => (month ? `cgs:${policyCode}:${caregiverId}:${month}` : `cgs:${policyCode}:${caregiverId}`);
/** A key safe as a field name (no dots, no leading $). */
export const drawKey = (visitId: string) => visitId.replace(/[.$]/g, '_');
