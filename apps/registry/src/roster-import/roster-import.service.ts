import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { regionPath } from '@yiyang/geo';
import { AppError, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { ElderInput } from '../elders/elder-input';
import { EldersService, type PhaseTimings, type RegionCache, type UpsertPlan } from '../elders/elders.service';
import { forbidden } from '../shared/scope';
import { ImportError, ImportRun } from './import-run.schema';
import { missingRequired, readHeader, type ColumnKey, type HeaderMap } from './roster-columns';
import { csvRows, sniff, xlsxRows, type SheetRow } from './roster-reader';
import { columnKeyOfField, headerFor, isBlankRow, rowToCandidate, zodRowErrors, type RowError } from './roster-row';

/** Rows handed to EldersService.upsertMany at once: big enough to amortise round trips, small enough to stay flat. */
export const IMPORT_BATCH_ROWS = 1_000;
/** The run document's counters are refreshed after this many batches (10,000 rows). */
const PROGRESS_EVERY_BATCHES = 10;
/** Error entries returned inline; the rest are in the downloadable report. */
export const INLINE_ERROR_LIMIT = 1_000;
/** A title block above the header ("路北区高龄老人花名册", a date line) is common; we look this far down. */
const HEADER_SEARCH_ROWS = 10;

export interface ImportReport {
  importId: string;
  fileName: string;
  format: 'csv' | 'xlsx';
  encoding: string | null;
  totalRows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: Array<Pick<RowError, 'row' | 'column' | 'reason' | 'reasonZh' | 'code'>>;
  /** Error entries not listed in `errors` (see errorReportUrl for all of them). */
  errorsOmitted: number;
  errorReportUrl: string;
  durationMs: number;
}

type UpsertResult = Awaited<ReturnType<EldersService['upsertMany']>>[number];

/**
 * Imports a bureau's elder roster (CSV or XLSX) as a stream: rows are read, mapped to ElderInput,
 * validated and upserted in batches of IMPORT_BATCH_ROWS, so memory is the same for 100 rows or
 * 400,000. Good rows are imported, bad rows are reported with the spreadsheet row number and the
 * column header as the file wrote it. Re-running a file is safe: EldersService identifies a person
 * by the keyed hash of the ID number, so the second run updates (or leaves unchanged), never duplicates.
 */
@Injectable()
export class RosterImportService {
  private readonly log = new Logger(RosterImportService.name);

  constructor(
    @InjectModel(ImportRun.name) private readonly runs: Model<ImportRun>,
    @InjectModel(ImportError.name) private readonly errors: Model<ImportError>,
    private readonly elders: EldersService,
  ) {}

  async importRoster(
    principal: Principal,
    input: Readable,
    options: { fileName: string; correlationId: string; batchRows?: number; isTruncated?: () => boolean },
  ): Promise<ImportReport> {
    if (principal.role !== 'civil_affairs_admin' || !principal.regionCode) throw forbidden();
    const scope = principal.regionCode;
    const started = Date.now();
    const batchRows = options.batchRows ?? IMPORT_BATCH_ROWS;
    const { format, stream } = await sniff(input, options.fileName);

    const importId = randomUUID();
    const decoderProbe: { encoding: string | null } = { encoding: format === 'xlsx' ? null : 'utf-8' };
    const run = new RunState(importId);
    await this.runs.create({
      _id: importId,
      kind: 'ELDER_ROSTER',
      userId: principal.userId,
      regionCode: scope,
      regionPath: regionPath(scope),
      fileName: options.fileName,
      format,
      encoding: null,
      status: 'RUNNING',
      correlationId: options.correlationId,
      startedAt: new Date(started),
      updatedAt: new Date(started),
    });

    let header: HeaderMap | undefined;
    let batch: Array<{ row: number; input: ElderInput }> = [];
    const batchIds = new Map<string, number>();
    // One batch is upserted while the next is parsed; never more than one in flight, so two rows
    // of the same person in consecutive batches are applied in file order.
    // Batch n+1 is planned (validated, hashed, encrypted, its events built: CPU only) while batch n is
    // being written, then written once n is done.
    let inFlight: Promise<void> | undefined;
    const flush = async () => {
      if (!batch.length) {
        await inFlight;
        inFlight = undefined;
        return;
      }
      const rows = batch;
      batch = [];
      batchIds.clear();
      // A batch that found most of its people on file (a re-run) makes the next ones look them up
      // first; a first import inserts blind and lets the unique index find the few already there.
      const t0 = performance.now();
      const plan = await this.elders.planUpsert(
        principal,
        rows.map((r) => r.input),
        options.correlationId,
        {
          importId: run.importId,
          lookupFirst: run.existingShare > 0.5,
          prevalidated: true,
          regionCache: run.regionCache,
          timings: run.timings,
          prepareEarly: true,
          deferAudit: true,
        },
      );
      const t1 = performance.now();
      await inFlight;
      run.timings['plan'] = (run.timings['plan'] ?? 0) + (t1 - t0);
      run.timings['waitForWrite'] = (run.timings['waitForWrite'] ?? 0) + (performance.now() - t1);
      inFlight = this.upsertBatch(plan, rows, header!, run);
    };

    try {
      const rows: AsyncIterable<SheetRow> = format === 'xlsx' ? xlsxRows(stream) : csvRows(stream, (encoding) => (decoderProbe.encoding = encoding));
      for await (const { rowNumber, cells } of rows) {
        if (isBlankRow(cells)) continue;
        if (!header) {
          header = readHeader(cells);
          if (!header && rowNumber >= HEADER_SEARCH_ROWS) throw headerNotFound();
          if (header) {
            const missing = missingRequired(header);
            if (missing.length) throw columnsMissing(missing.map((c) => c.zh));
          }
          continue;
        }
        run.totalRows += 1;
        const byKey = new Map<ColumnKey, unknown>();
        for (const [index, key] of header.byIndex) byKey.set(key, cells[index]);
        const { candidate, errors: cellErrors } = rowToCandidate(rowNumber, byKey, header, scope);
        const parsed = ElderInput.safeParse(candidate);
        const reported = new Set(cellErrors.map((e) => e.column));
        const rowErrors = [...cellErrors, ...(parsed.success ? [] : zodRowErrors(rowNumber, header, parsed.error).filter((e) => !reported.has(e.column)))];
        if (rowErrors.length) {
          run.failed += 1;
          await run.addErrors(rowErrors, this.errors);
          continue;
        }
        // The same person twice in one batch is a roster mistake we can name precisely (both rows);
        // across batches the later row simply updates the earlier one, as a re-import would.
        const idKey = String(candidate['idCardNumber']);
        const firstRow = batchIds.get(idKey);
        if (firstRow !== undefined) {
          run.failed += 1;
          await run.addErrors([duplicateRow(rowNumber, firstRow, header)], this.errors);
          continue;
        }
        batchIds.set(idKey, rowNumber);
        batch.push({ row: rowNumber, input: (parsed.success ? parsed.data : candidate) as ElderInput });
        if (batch.length >= batchRows) {
          await flush();
          // Every write waits its turn at the one database writer: the progress counters go out every
          // PROGRESS_EVERY_BATCHES batches, not after each one.
          if (++run.batches % PROGRESS_EVERY_BATCHES === 0) await this.progress(run);
        }
      }
      if (options.isTruncated?.()) throw tooLarge();
      if (!header) throw headerNotFound();
      await flush();
      await inFlight;
      await run.auditWrite;
      await run.flushErrors(this.errors);
    } catch (error) {
      await inFlight?.catch(() => undefined);
      await run.auditWrite?.catch(() => undefined);
      await run.flushErrors(this.errors).catch(() => undefined);
      const failure = this.toFailure(error, options.isTruncated?.());
      await this.runs
        .updateOne({ _id: importId }, { $set: { ...run.counts(), status: 'FAILED', failure, updatedAt: new Date(), finishedAt: new Date(), durationMs: Date.now() - started } })
        .catch(() => undefined);
      stream.resume(); // let the rest of the upload drain so the client gets its answer
      if (failure.status >= 500) throw error;
      throw new AppError(failure.code, failure.status, failure.message, {
        field: failure.field,
        messageZh: failure.messageZh,
        details: { importId, ...run.counts(), note: 'Rows before the failure were imported; re-running the corrected file is safe.' },
      });
    }

    const durationMs = Date.now() - started;
    await this.runs.updateOne(
      { _id: importId },
      { $set: { ...run.counts(), status: 'COMPLETED', encoding: decoderProbe.encoding, updatedAt: new Date(), finishedAt: new Date(), durationMs, timings: run.roundedTimings() } },
    );
    this.log.log({ importId, correlationId: options.correlationId, ...run.counts(), durationMs }, 'roster import finished');
    return {
      importId,
      fileName: options.fileName,
      format,
      encoding: decoderProbe.encoding,
      totalRows: run.totalRows,
      created: run.created,
      updated: run.updated,
      unchanged: run.unchanged,
      failed: run.failed,
      errors: [...run.inline].sort((a, b) => a.row - b.row),
      errorsOmitted: run.errorCount - run.inline.length,
      errorReportUrl: `/elders/import/${importId}/errors.csv`,
      durationMs,
    };
  }

  /** The run, if the caller's scope covers the scope it was imported under. */
  async requireRun(principal: Principal, importId: string): Promise<ImportRun> {
    if (principal.role !== 'civil_affairs_admin' || !principal.regionCode) throw forbidden();
    const run = await this.runs.findOne({ _id: importId, regionPath: principal.regionCode }).lean();
    if (!run) throw new AppError('ROSTER.IMPORT_NOT_FOUND', 404, 'Import run not found', { messageZh: '未找到该导入记录' });
    return run;
  }

  /** The full error report as CSV, streamed from the database in row order. */
  errorReport(importId: string): Readable {
    const cursor = this.errors.find({ importId }).sort({ row: 1, seq: 1 }).lean().cursor({ batchSize: 1_000 });
    const csv = (s: string | number) => {
      const text = String(s);
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    return Readable.from(
      (async function* () {
        // The BOM makes Excel open the UTF-8 file with the Chinese readable.
        yield '\uFEFF行号,列,原因,错误代码,reason\r\n';
        for await (const e of cursor) yield `${[e.row, e.column, e.reasonZh, e.code, e.reason].map(csv).join(',')}\r\n`;
      })(),
    );
  }

  private async upsertBatch(plan: UpsertPlan, rows: Array<{ row: number; input: ElderInput }>, header: HeaderMap, run: RunState) {
    const results = await this.elders.applyUpsert(plan);
    // The batch's audit entry is left in flight while the next batch writes; the one before it is done by now.
    const previousAudit = run.auditWrite;
    run.auditWrite = plan.auditWrite;
    await previousAudit;
    const rowErrors: RowError[] = [];
    const failedRows = new Set<number>();
    for (const result of results as UpsertResult[]) {
      const row = rows[result.index]?.row ?? -1;
      if ('error' in result) {
        failedRows.add(row);
        const { field, reason, code } = result.error;
        const messageZh = (result.error as { messageZh?: string }).messageZh;
        const column = headerFor(header, columnKeyOfField(field), field || '(行)');
        rowErrors.push({ row, column, code, reason, reasonZh: messageZh ?? (/[\u4e00-\u9fff]/.test(reason) ? reason : `${column}：${reason}`) });
      } else run[result.outcome as 'created' | 'updated' | 'unchanged'] += 1;
    }
    run.failed += failedRows.size;
    const onFile = (results as UpsertResult[]).filter((r) => 'outcome' in r && r.outcome !== 'created').length;
    run.existingShare = rows.length ? onFile / rows.length : 0;
    await run.addErrors(rowErrors, this.errors);
  }

  private async progress(run: RunState) {
    const t0 = performance.now();
    await this.runs.updateOne({ _id: run.importId }, { $set: { ...run.counts(), updatedAt: new Date() } });
    run.timings['progress'] = (run.timings['progress'] ?? 0) + (performance.now() - t0);
  }

  private toFailure(error: unknown, truncated: boolean | undefined) {
    if (truncated) error = tooLarge();
    if (error instanceof AppError) {
      return { status: error.status, code: error.code, message: error.message, messageZh: error.options.messageZh, field: error.options.field };
    }
    const e = error as { code?: string; message?: string; lines?: number };
    if (typeof e?.code === 'string' && e.code.startsWith('CSV_')) {
      // csv-parse stops at a structural problem (an unclosed quote): the rows before it stand.
      return {
        status: 400,
        code: 'ROSTER.FILE_MALFORMED',
        message: `The CSV file is malformed near line ${e.lines ?? '?'}: ${e.message}`,
        messageZh: `CSV 文件第 ${e.lines ?? '?'} 行附近格式错误（如引号未闭合），之前的行已导入`,
        field: 'file',
      };
    }
    if (e?.message && /zip|end of central directory|invalid signature|xml/i.test(e.message)) {
      return {
        status: 400,
        code: 'ROSTER.FILE_MALFORMED',
        message: `The XLSX workbook could not be read: ${e.message}`,
        messageZh: 'XLSX 文件已损坏或不是有效的Excel工作簿',
        field: 'file',
      };
    }
    this.log.error({ err: error }, 'roster import failed');
    return { status: 500, code: 'INTERNAL', message: 'Internal error', messageZh: '服务器内部错误', field: undefined };
  }
}

/** The counters and the error buffer of one run; errors go to the database in batches. */
class RunState {
  totalRows = 0;
  created = 0;
  updated = 0;
  unchanged = 0;
  failed = 0;
  errorCount = 0;
  batches = 0;
  /** Share of the last batch's rows already on file: above one half, the next batch looks up first. */
  existingShare = 0;
  readonly regionCache: RegionCache = new Map();
  /** The last batch's audit entry, still being written (awaited before the next one and at the end). */
  auditWrite?: Promise<void>;
  /** Milliseconds per step, summed over the run (stored with the run: where an import's time went). */
  readonly timings: PhaseTimings = {};
  readonly inline: RowError[] = [];
  private pending: ImportError[] = [];

  constructor(readonly importId: string) {}

  counts() {
    const { totalRows, created, updated, unchanged, failed, errorCount } = this;
    return { totalRows, created, updated, unchanged, failed, errorCount };
  }

  roundedTimings(): PhaseTimings {
    return Object.fromEntries(Object.entries(this.timings).map(([k, v]) => [k, Math.round(v)]));
  }

  async addErrors(errors: RowError[], model: Model<ImportError>) {
    for (const e of errors) {
      const seq = this.errorCount++;
      if (this.inline.length < INLINE_ERROR_LIMIT) this.inline.push(e);
      this.pending.push({ _id: `${this.importId}:${seq}`, importId: this.importId, seq, ...e });
    }
    if (this.pending.length >= IMPORT_BATCH_ROWS) await this.flushErrors(model);
  }

  async flushErrors(model: Model<ImportError>) {
    if (!this.pending.length) return;
    const docs = this.pending;
    this.pending = [];
    await model.collection.insertMany(docs as never[], { ordered: false });
  }
}

function duplicateRow(row: number, firstRow: number, header: HeaderMap): RowError {
  return {
    row,
    column: headerFor(header, 'idCardNumber', '身份证号'),
    code: 'ROSTER.DUPLICATE_ROW',
    reason: `same ID-card number as row ${firstRow}; only the first row was imported`,
    reasonZh: `与第 ${firstRow} 行身份证号相同（同一人重复登记），仅导入了第 ${firstRow} 行`,
  };
}

function headerNotFound(): AppError {
  return new AppError('ROSTER.HEADER_NOT_FOUND', 400, 'No header row naming the ID-card column (身份证号 / idCardNumber) in the first rows', {
    field: 'file',
    messageZh: `前 ${HEADER_SEARCH_ROWS} 行中未找到表头（需包含“身份证号”列）；请使用导入模板`,
  });
}

function columnsMissing(columns: string[]): AppError {
  return new AppError('ROSTER.COLUMN_MISSING', 400, `Required column(s) missing: ${columns.join(', ')}`, {
    field: columns[0],
    messageZh: `缺少必需列：${columns.join('、')}`,
    details: { columns },
  });
}

function tooLarge(): AppError {
  return new AppError('ROSTER.FILE_TOO_LARGE', 413, 'The roster file exceeds the upload limit', {
    field: 'file',
    messageZh: '花名册文件超过上传大小限制，请拆分后分批导入',
  });
}
