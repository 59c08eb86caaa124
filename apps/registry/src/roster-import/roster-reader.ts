import { Readable, Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { AppError } from '@yiyang/service-kit';

/** One spreadsheet row: its number as the spreadsheet shows it (header = 1 in a plain file) and its cells. */
export interface SheetRow {
  rowNumber: number;
  cells: unknown[];
}

export type RosterFormat = 'csv' | 'xlsx';

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]); // legacy .xls (and .doc)
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Reads the first bytes of an upload to decide what it is — the file name and MIME type browsers
 * send for CSV vary too much to trust — and hands back a stream that still starts at byte 0.
 */
export async function sniff(input: Readable, fileName: string): Promise<{ format: RosterFormat; stream: Readable; head: Buffer }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  if (head.length === 0) {
    throw new AppError('ROSTER.EMPTY_FILE', 400, 'The uploaded file is empty', { field: 'file', messageZh: '上传的文件为空' });
  }
  const stream = Readable.from(
    (async function* () {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })(),
    { objectMode: false },
  );
  if (head.subarray(0, 4).equals(ZIP_MAGIC)) return { format: 'xlsx', stream, head };
  if (head.subarray(0, 4).equals(OLE_MAGIC) || /\.xls$/i.test(fileName)) {
    stream.destroy();
    throw new AppError('ROSTER.UNSUPPORTED_FILE', 415, 'Legacy .xls workbooks are not supported; save the roster as .xlsx or CSV', {
      field: 'file',
      messageZh: '不支持旧版 .xls 格式，请在Excel中另存为 .xlsx 或 CSV（UTF-8）后上传',
    });
  }
  if (/\.(xlsx|csv|txt)$/i.test(fileName) || fileName === '' || looksLikeText(head)) return { format: 'csv', stream, head };
  stream.destroy();
  throw new AppError('ROSTER.UNSUPPORTED_FILE', 415, `Unsupported file "${fileName}": upload a .csv or .xlsx roster`, {
    field: 'file',
    messageZh: `不支持的文件“${fileName}”：请上传 .csv 或 .xlsx 格式的花名册`,
  });
}

function looksLikeText(head: Buffer): boolean {
  return !head.subarray(0, 512).includes(0);
}

/**
 * Chinese Excel saves "CSV" in GBK unless the user picks "CSV UTF-8". We decide once, from the
 * first chunk: a UTF-8 BOM or bytes that decode as UTF-8 mean UTF-8; anything else is read as GBK
 * (a superset of GB2312; Node's ICU decodes it). Decoding is streamed, so memory stays flat.
 */
export class RosterDecoder extends Transform {
  private decoder?: TextDecoder;
  encoding?: 'utf-8' | 'gbk';

  constructor(private readonly onEncoding?: (encoding: 'utf-8' | 'gbk') => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.decoder) {
        this.encoding = chunk.subarray(0, 3).equals(UTF8_BOM) || validUtf8Prefix(chunk) ? 'utf-8' : 'gbk';
        // ignoreBOM: false (the default) strips a leading BOM, so the first header reads "姓名".
        this.decoder = new TextDecoder(this.encoding);
        this.onEncoding?.(this.encoding);
      }
      done(null, this.decoder.decode(chunk, { stream: true }));
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(null, this.decoder?.decode() ?? '');
  }
}

function validUtf8Prefix(chunk: Buffer): boolean {
  try {
    // stream: true tolerates a character cut at the chunk's end.
    new TextDecoder('utf-8', { fatal: true }).decode(chunk, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** CSV rows, streamed: csv-parse pulls from the decoder only as fast as the importer consumes. */
export async function* csvRows(stream: Readable, onEncoding?: (encoding: 'utf-8' | 'gbk') => void): AsyncGenerator<SheetRow> {
  const parser = parse({
    relax_column_count: true, // a short row is a row error (missing value), not a broken file
    skip_empty_lines: false, // keep line numbers equal to spreadsheet row numbers
    trim: true,
    info: true,
  });
  const decoder = new RosterDecoder(onEncoding);
  stream.on('error', (e) => decoder.destroy(e));
  decoder.on('error', (e) => parser.destroy(e));
  stream.pipe(decoder).pipe(parser);
  let rowNumber = 0;
  for await (const { record } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    // One record is one spreadsheet row even when a quoted cell spans lines.
    rowNumber += 1;
    yield { rowNumber, cells: record };
  }
}

/**
 * XLSX rows of the first worksheet, streamed with exceljs' WorkbookReader: rows are parsed from
 * the zip entry as it inflates and are not kept. Shared strings are cached (the sheet refers to
 * them by index); styles are cached so date cells come back as dates.
 */
export async function* xlsxRows(stream: Readable): AsyncGenerator<SheetRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  for await (const sheet of reader) {
    for await (const row of sheet) {
      // row.values is 1-based (index 0 empty); a sparse array when cells are missing.
      const values = row.values as unknown[];
      const cells: unknown[] = [];
      for (let i = 1; i < values.length; i++) cells.push(values[i]);
      yield { rowNumber: row.number, cells };
    }
    // Only the first worksheet is the roster; later sheets are notes, pivots, instructions.
    break;
  }
}
