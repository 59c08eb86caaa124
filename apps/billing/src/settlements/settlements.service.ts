import { PassThrough, type Readable } from 'node:stream';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { SettlementApproved, SettlementIssued, SettlementPaid } from '@yiyang/contracts';
import { regionWithin } from '@yiyang/geo';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type OutboxEntry } from '@yiyang/messaging';
import { AppError, parseInput, type Principal } from '@yiyang/service-kit';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { policyInForce } from '../policies/domain/policy';
import { CaregiverSubsidiesService } from '../caregivers/caregiver-subsidies.service';
import { PoliciesService } from '../policies/policies.service';
import { RegistryView } from '../registry-view/registry-view.service';
import { MonthRegex } from '../shared/dates';
import { forbidden } from '../shared/scope';
import { applyToAggregates, closeMonth, ensureAggregateIndexes, LINE_PROJECTION, monthTotals, statementJournalIds, statementLines, type MonthAggregate } from './aggregates';
import { emptyTotals, lineKind, yuan, type SettlementJournal, type StatementTotals } from './domain/statement';

export interface Statement {
  _id: string;
  providerId: string;
  month: string;
  status: 'DRAFT' | 'APPROVED' | 'PAID';
  totals: StatementTotals;
  operatingLines: { policyCode: string; facilityId: string; facilityName: string; basis: string; units: number; amountFen: number }[];
  issuedAt: Date;
  approvedAt: Date | null;
  approvedBy: string | null;
  paidAt: Date | null;
  paymentReference: string | null;
  version: number;
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

const Month = z.string().regex(MonthRegex, 'must be a month yyyy-mm');
const IssueInput = z.object({ month: Month, providerId: z.string().min(1).optional() }).strict();
const PaymentInput = z.object({ paymentReference: z.string().trim().min(3).max(80) }).strict();
const ExportQuery = z.object({ format: z.enum(['csv', 'xlsx']).default('csv') });

export const statementId = (providerId: string, month: string) => `stmt:${providerId}:${month}`;

const HEADERS_ZH = ['服务记录号', '工单号', '老人编号', '护理员编号', '服务项目', '服务日期', '开始时间', '结束时间', '数量', '单价(元)', '服务金额(元)', '补贴(元)', '自付(元)', '暂缓支付(元)', '类型'];
const KIND_ZH = { SERVICE: '正常', LATE: '补记调整', REVERSAL: '冲销', CAREGIVER: '护理员补贴' } as const;

/**
 * Monthly settlement per provider (Asia/Shanghai month boundaries): draft → approved by the bureau
 * → paid. Drafts can be re-issued as late charges arrive; approval re-computes and freezes the
 * totals, and anything posted afterwards for that month goes on the next statement as an adjustment.
 */
@Injectable()
export class SettlementsService implements OnModuleInit, OnApplicationBootstrap {
  private readonly log = new Logger('Settlements');
  readonly statements: Collection<Statement>;
  readonly aggregates: Collection<MonthAggregate>;
  private readonly ledger: Collection;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly policies: PoliciesService,
    private readonly view: RegistryView,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
    private readonly caregiverSubsidies: CaregiverSubsidiesService,
  ) {
    this.statements = connection.collection('statements') as never;
    this.ledger = connection.collection('ledger') as never;
    this.aggregates = connection.collection('settlement_aggregates') as never;
  }

  async onModuleInit(): Promise<void> {
    await ensureAggregateIndexes(this.aggregates);
    await this.statements.createIndex({ month: 1 });
    await this.relay.register(this.statements as never);
  }

  /** Started in the background at boot; awaited by tests. */
  backfilled: Promise<void> = Promise.resolve();

  onApplicationBootstrap(): void {
    this.backfilled = this.backfillOnce().catch((error) => this.log.error(`running totals backfill failed: ${(error as Error).message}`));
  }

  /**
   * A database whose journals predate the running totals (ADR 0008) gets them counted once, in the
   * background: every charge, reversal and caregiver subsidy through the same idempotent
   * `applyToAggregates` postings use (a journal already counted, or posted meanwhile, adds nothing).
   * A marker document records that it is done, so later boots skip it.
   */
  private async backfillOnce(): Promise<void> {
    const markers = this.aggregates as unknown as Collection<{ _id: string; doneAt: Date; journals: number }>;
    if (await markers.findOne({ _id: 'backfill:v1' })) return;
    let journals = 0;
    const cursor = this.ledger.find({ kind: { $in: ['CHARGE', 'REVERSAL', 'CAREGIVER_SUBSIDY'] } }, { projection: LINE_PROJECTION });
    for await (const j of cursor) {
      const journal = j as unknown as SettlementJournal & { providerId?: string };
      if (!journal.providerId) continue;
      await applyToAggregates(this.aggregates, journal as never, journal.settlementMonth ?? (journal.serviceMonth as string));
      journals++;
    }
    await markers.updateOne({ _id: 'backfill:v1' }, { $set: { doneAt: new Date(), journals } }, { upsert: true });
    if (journals > 0) this.log.log(`counted ${journals} earlier journals on the running statement totals`);
  }

  private assertBureau(principal: Principal): void {
    if (principal.role !== 'civil_affairs_admin') throw forbidden();
  }

  /** Operating subsidies for the month: per occupied bed or per open facility, for facilities the provider runs. */
  private async operating(month: string, providerId?: string): Promise<Map<string, Statement['operatingLines']>> {
    const firstDay = `${month}-01`;
    const policies = (await this.policies.all()).filter((p) => p.benefit.kind === 'OPERATING_SUBSIDY' && policyInForce(p, firstDay));
    const out = new Map<string, Statement['operatingLines']>();
    if (policies.length === 0) return out;
    const facilities = await this.view.facilities.find(providerId ? { providerId } : {}).toArray();
    for (const p of policies) {
      const b = p.benefit;
      if (b.kind !== 'OPERATING_SUBSIDY') continue;
      for (const f of facilities) {
        if (!f.providerId || !f.open || !regionWithin(f.regionCode, p.regionCode)) continue;
        if (b.facilityKinds && !b.facilityKinds.includes(f.kind)) continue;
        const units = b.basis === 'OCCUPIED_BED' ? f.beds.occupied : 1;
        if (units === 0) continue;
        const lines = out.get(f.providerId) ?? [];
        lines.push({ policyCode: p.code, facilityId: f._id, facilityName: f.name, basis: b.basis, units, amountFen: units * b.amountFen });
        out.set(f.providerId, lines);
      }
    }
    return out;
  }

  /** Issues (or re-issues) the draft statements of a month for every provider with charges, or one provider. */
  async issue(principal: Principal, body: unknown, correlationId: string): Promise<Statement[]> {
    this.assertBureau(principal);
    const { month, providerId } = parseInput(IssueInput, body);
    // The month's skill allowances are posted (once each) before the totals are read.
    await this.caregiverSubsidies.postMonth(month, correlationId, providerId);
    // The running totals maintained as journals post: a few small documents per provider.
    const totals = await monthTotals(this.aggregates, month, providerId);
    const operating = await this.operating(month, providerId);
    const providers = new Set([...totals.keys(), ...operating.keys()]);
    const out: Statement[] = [];
    for (const pid of [...providers].sort()) {
      const t = totals.get(pid) ?? emptyTotals();
      const ops = operating.get(pid) ?? [];
      t.operatingSubsidyFen = ops.reduce((s, l) => s + l.amountFen, 0);
      t.payableFen = t.subsidyFen + t.adjustmentSubsidyFen + t.caregiverSubsidyFen + t.operatingSubsidyFen;
      const stored = await this.saveDraft(pid, month, t, ops, correlationId);
      if (stored) out.push(stored);
    }
    this.relay.nudge();
    return out;
  }

  private async saveDraft(providerId: string, month: string, totals: StatementTotals, operatingLines: Statement['operatingLines'], correlationId: string): Promise<Statement | null> {
    const _id = statementId(providerId, month);
    const issuedAt = new Date();
    const event = this.events.create(SettlementIssued, { key: _id, correlationId, payload: { statementId: _id, providerId, month, totals, issuedAt: issuedAt.toISOString() } });
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.statements.findOne({ _id });
      if (existing && existing.status !== 'DRAFT') return existing; // approved statements never change
      if (!existing) {
        const doc: Statement = {
          _id, providerId, month, status: 'DRAFT', totals, operatingLines, issuedAt, approvedAt: null, approvedBy: null, paidAt: null, paymentReference: null, version: 1, ...outboxFields([event]),
        };
        try {
          await this.statements.insertOne(doc);
          return doc;
        } catch (error) {
          if (isDuplicateKeyError(error)) continue;
          throw error;
        }
      }
      const res = await this.statements.updateOne(
        { _id, version: existing.version, status: 'DRAFT' },
        withOutbox({ $set: { totals, operatingLines, issuedAt, version: existing.version + 1 } }, [event]) as never,
      );
      if (res.matchedCount === 1) return { ...existing, totals, operatingLines, issuedAt, version: existing.version + 1 };
    }
    throw new AppError('BILLING.CONCURRENT_UPDATE', 409, 'Statement changed meanwhile; retry', { messageZh: '结算单已被修改，请重试' });
  }

  /**
   * The bureau approves: the month's running totals are closed first (nothing more can be counted on
   * them), then read and frozen; later postings for the month go to the next statement.
   */
  async approve(principal: Principal, providerId: string, month: string, correlationId: string): Promise<Statement> {
    this.assertBureau(principal);
    parseInput(Month, month);
    const existing = await this.require(principal, providerId, month);
    if (existing.status !== 'DRAFT') throw this.wrongState(existing, 'DRAFT');
    const approvedAt = new Date();
    const totals = await closeMonth(this.aggregates, providerId, month);
    totals.operatingSubsidyFen = existing.operatingLines.reduce((s, l) => s + l.amountFen, 0);
    totals.payableFen = totals.subsidyFen + totals.adjustmentSubsidyFen + totals.caregiverSubsidyFen + totals.operatingSubsidyFen;
    const event = this.events.create(SettlementApproved, {
      key: existing._id,
      correlationId,
      payload: { statementId: existing._id, providerId, month, totals, approvedBy: principal.userId, approvedAt: approvedAt.toISOString() },
    });
    const res = await this.statements.updateOne(
      { _id: existing._id, version: existing.version, status: 'DRAFT' },
      withOutbox({ $set: { status: 'APPROVED', totals, approvedAt, approvedBy: principal.userId, version: existing.version + 1 } }, [event]) as never,
    );
    if (res.matchedCount === 0) throw new AppError('BILLING.CONCURRENT_UPDATE', 409, 'Statement changed meanwhile; retry', { messageZh: '结算单已被修改，请重试' });
    this.relay.nudge();
    return { ...existing, status: 'APPROVED', totals, approvedAt, approvedBy: principal.userId, version: existing.version + 1 };
  }

  async pay(principal: Principal, providerId: string, month: string, body: unknown, correlationId: string): Promise<Statement> {
    this.assertBureau(principal);
    const { paymentReference } = parseInput(PaymentInput, body);
    const existing = await this.require(principal, providerId, month);
    if (existing.status !== 'APPROVED') throw this.wrongState(existing, 'APPROVED');
    const paidAt = new Date();
    const event = this.events.create(SettlementPaid, {
      key: existing._id,
      correlationId,
      payload: { statementId: existing._id, providerId, month, totals: existing.totals, paidAt: paidAt.toISOString(), paymentReference },
    });
    const res = await this.statements.updateOne(
      { _id: existing._id, version: existing.version, status: 'APPROVED' },
      withOutbox({ $set: { status: 'PAID', paidAt, paymentReference, version: existing.version + 1 } }, [event]) as never,
    );
    if (res.matchedCount === 0) throw new AppError('BILLING.CONCURRENT_UPDATE', 409, 'Statement changed meanwhile; retry', { messageZh: '结算单已被修改，请重试' });
    this.relay.nudge();
    return { ...existing, status: 'PAID', paidAt, paymentReference, version: existing.version + 1 };
  }

  private wrongState(s: Statement, expected: string): AppError {
    return new AppError('BILLING.STATEMENT_STATE', 409, `Statement is ${s.status}, expected ${expected}`, { messageZh: `结算单状态为 ${s.status}，需为 ${expected}`, details: { status: s.status } });
  }

  async require(principal: Principal, providerId: string, month: string): Promise<Statement> {
    if (principal.role === 'provider_operator' && principal.providerId !== providerId) throw new AppError('BILLING.STATEMENT_NOT_FOUND', 404, 'Statement not found', { messageZh: '未找到结算单' });
    if (!['civil_affairs_admin', 'auditor', 'provider_operator'].includes(principal.role)) throw forbidden();
    const s = await this.statements.findOne({ _id: statementId(providerId, month) }, { projection: { outbox: 0 } });
    if (!s) throw new AppError('BILLING.STATEMENT_NOT_FOUND', 404, 'Statement not found', { messageZh: '未找到结算单' });
    return s;
  }

  async list(principal: Principal, query: unknown) {
    const { month } = parseInput(z.object({ month: Month }), query);
    const filter: Record<string, unknown> = { month };
    if (principal.role === 'provider_operator') filter['providerId'] = principal.providerId;
    else if (!['civil_affairs_admin', 'auditor'].includes(principal.role)) throw forbidden();
    return this.statements.find(filter, { projection: { outbox: 0, outboxPending: 0 } }).sort({ _id: 1 }).toArray();
  }

  /**
   * Statement lines, one per visit (and per adjustment or caregiver subsidy), as CSV or XLSX with
   * zh-CN headers: exactly the journals the statement's running totals counted, read by `_id`.
   */
  async export(principal: Principal, providerId: string, month: string, query: unknown): Promise<{ stream: Readable; contentType: string; filename: string }> {
    const { format } = parseInput(ExportQuery, query);
    const statement = await this.require(principal, providerId, month);
    const ids = await statementJournalIds(this.aggregates, providerId, month);
    const row = (j: SettlementJournal) =>
      j.kind === 'CAREGIVER_SUBSIDY'
        ? [j._id, '', '', j.caregiverId, j.policyCode, j.serviceMonth, '', '', 1, yuan(j.amountFen ?? 0), yuan(j.amountFen ?? 0), yuan((j.amountFen ?? 0) - (j.heldFen ?? 0)), yuan(0), yuan(j.heldFen ?? 0), KIND_ZH.CAREGIVER]
        : [
            j.visitId, j.orderId, j.elderId, j.caregiverId, j.itemCode, j.serviceDate, j.startedAt, j.endedAt ?? '', j.quantity,
            yuan(j.unitPriceFen ?? 0), yuan(j.grossFen ?? 0), yuan((j.subsidyFen ?? 0) - (j.heldFen ?? 0)), yuan(j.copayFen ?? 0), yuan(j.heldFen ?? 0), KIND_ZH[lineKind(j, month)],
          ];
    const eachLine = async (onLine: (j: SettlementJournal) => void) => {
      for await (const j of statementLines<SettlementJournal>(this.ledger as never, ids, LINE_PROJECTION)) onLine(j);
    };
    const filename = `settlement-${providerId}-${month}.${format}`;
    if (format === 'csv') {
      const csv = stringify({ header: true, columns: HEADERS_ZH, bom: true });
      void (async () => {
        try {
          await eachLine((j) => void csv.write(row(j)));
          csv.write(['合计', '', '', '', '', '', '', '', '', '', yuan(statement.totals.grossFen), yuan(statement.totals.payableFen), yuan(statement.totals.copayFen), yuan(statement.totals.heldFen), statement.status]);
          csv.end();
        } catch (error) {
          csv.destroy(error as Error);
        }
      })();
      return { stream: csv, contentType: 'text/csv; charset=utf-8', filename };
    }
    const out = new PassThrough();
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
    const sheet = workbook.addWorksheet(`结算单 ${month}`);
    sheet.addRow(HEADERS_ZH).commit();
    void (async () => {
      try {
        await eachLine((j) => sheet.addRow(row(j)).commit());
        sheet.addRow(['合计', '', '', '', '', '', '', '', '', '', yuan(statement.totals.grossFen), yuan(statement.totals.payableFen), yuan(statement.totals.copayFen), yuan(statement.totals.heldFen), statement.status]).commit();
        sheet.commit();
        await workbook.commit();
      } catch (error) {
        out.destroy(error as Error);
      }
    })();
    return { stream: out, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', filename };
  }
}
