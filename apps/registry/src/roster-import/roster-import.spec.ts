import 'reflect-metadata';
import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getModelToken } from '@nestjs/mongoose';
import { ServiceKitModule, type Principal } from '@yiyang/service-kit';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import ExcelJS from 'exceljs';
import type { Model } from 'mongoose';
import { Elder } from '../elders/elder.schema';
import { EldersModule } from '../elders/elders.module';
import { PiiVault } from '../elders/pii';
import { RegionsModule } from '../regions/regions.module';
import { SERVICE } from '../service';
import { RosterImportModule } from './roster-import.module';

// Wired on its own (not through AppModule) so this suite only needs the slices it exercises.
@Module({ imports: [ServiceKitModule.forRoot(SERVICE), RegionsModule, EldersModule, RosterImportModule] })
class RosterTestModule {}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A valid 18-digit ID (ISO 7064 MOD 11-2 check character). */
function idCard(first17: string): string {
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}
// Random sequence digits per run: the suite shares a database with other registry suites, so its
// people must not collide with theirs (or with a previous run's).
const seq = (gender: 'F' | 'M') => String(Math.floor(Math.random() * 499) * 2 + (gender === 'M' ? 1 : 0)).padStart(3, '0');
const ZHANG = idCard(`13020319480512${seq('F')}`);
const WANG = idCard(`13020319400303${seq('M')}`); // 80+
const LIU = idCard(`13020319550801${seq('F')}`);
const BAD_CHECKSUM = (() => {
  const good = idCard(`13020319520101${seq('F')}`);
  return good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
})();
const ZHAO = idCard(`13020319500606${seq('F')}`);
const OUT = idCard(`13020419500707${seq('F')}`);
const PEOPLE = [ZHANG, WANG, LIU, BAD_CHECKSUM, ZHAO, OUT];

const HEADER = '姓名,性别（男/女）,身份证号,出生日期,联系电话,社区代码,家庭住址,纬度,经度,人员类别,监护人姓名,监护人关系,监护人电话';
const ROWS = [
  `张桂兰,女,${ZHANG},1948-05-12,13831500001,130203001001,文北社区3号楼2单元401,39.6412,118.1731,独居、低保,李建国,儿子,13931500002`,
  `王德明,男,${WANG},,,130203001001,文北社区5号楼1单元101,39.6420,118.1740,空巢、高龄,,,`,
  `孙玉珍,女,${BAD_CHECKSUM},,,130203001002,龙泉社区1号楼,39.6450,118.1800,,,,`,
  `赵桂芝,女,${ZHAO},,,130203001002,龙泉社区2号楼,39.6451,118.1801,五保,,,`,
  `刘淑珍,女,${LIU},,13831500003,130203001002,,39.6452,118.1802,空巢,,,`,
  `钱秀英,女,${OUT},,,130204001001,古冶区某社区,39.7000,118.4500,,,,`,
  `刘淑珍,女,${LIU},,13831500003,130203001002,龙泉社区3号楼,39.6452,118.1802,空巢,,,`,
];

function multipart(fileName: string, content: Buffer | string, contentType = 'text/csv') {
  const boundary = `----yiyang${Date.now()}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${contentType}\r\n\r\n`),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('roster import (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let elders: Model<Elder>;
  /** How many elder records exist for this suite's people (by the keyed ID hash the registry stores). */
  let stored: () => Promise<number>;
  const city: Principal = { userId: 'city-admin', role: 'civil_affairs_admin', regionCode: '130200000000' };
  const county: Principal = { userId: 'lubei-admin', role: 'civil_affairs_admin', regionCode: '130203000000' };

  const upload = (principal: Principal, fileName: string, content: Buffer | string, contentType?: string) => {
    const { payload, headers } = multipart(fileName, content, contentType);
    return app.inject({ method: 'POST', url: '/elders/import', headers: { ...headers, ...asPrincipal(principal) }, payload });
  };

  beforeAll(async () => {
    app = await bootTestApp(RosterTestModule, SERVICE);
    elders = app.get(getModelToken(Elder.name));
    const vault = app.get(PiiVault);
    stored = () => elders.countDocuments({ idCardHash: { $in: PEOPLE.map((id) => vault.hash(id)) } });
    const put = (code: string, name: string, lat: number, lng: number) =>
      app.inject({ method: 'PUT', url: `/regions/${code}`, headers: asPrincipal(city), payload: { name, centre: { lat, lng } } });
    for (const [code, name, lat, lng] of [
      ['130203000000', '路北区', 39.65, 118.18],
      ['130203001000', '乔屯街道', 39.64, 118.17],
      ['130203001001', '文北社区', 39.641, 118.173],
      ['130203001002', '龙泉社区', 39.645, 118.18],
      ['130204000000', '古冶区', 39.7, 118.45],
      ['130204001000', '古冶某街道', 39.7, 118.45],
      ['130204001001', '古冶某社区', 39.7, 118.45],
    ] as const) {
      expect((await put(code, name, lat, lng)).statusCode).toBe(200);
    }
  });
  afterAll(() => app?.close());

  it('imports the good rows of a CSV and reports every bad one by spreadsheet row and column', async () => {
    const res = await upload(county, '路北区花名册.csv', `\uFEFF${HEADER}\n${ROWS.join('\n')}\n`);
    expect(res.statusCode).toBe(201);
    const report = res.json();
    expect(report).toMatchObject({ format: 'csv', encoding: 'utf-8', totalRows: 7, created: 3, updated: 0, unchanged: 0, failed: 4, errorsOmitted: 0 });
    expect(report.errors.map((e: { row: number; column: string; code: string }) => [e.row, e.column, e.code])).toEqual([
      [4, '身份证号', 'REGISTRY.ID_CARD_INVALID'],
      [5, '人员类别', 'ROSTER.CATEGORY_UNKNOWN'],
      [6, '家庭住址', 'VALIDATION.INVALID_INPUT'],
      [7, '社区代码', 'AUTH.FORBIDDEN'],
    ]);
    expect(report.errors[1].reasonZh).toContain('五保');
    expect(report.errors[2].reasonZh).toContain('家庭住址');
    expect(report.errors[3].reasonZh).toContain('不在您的管辖范围');

    // The error report downloads as CSV with the same rows, zh first.
    const csv = await app.inject({ method: 'GET', url: `/elders/import/${report.importId}/errors.csv`, headers: asPrincipal(county) });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('行号,列,原因,错误代码,reason');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['4', '5', '6', '7']);

    // Another county's admin cannot read it.
    const other = await app.inject({
      method: 'GET',
      url: `/elders/import/${report.importId}/errors.csv`,
      headers: asPrincipal({ userId: 'x', role: 'civil_affairs_admin', regionCode: '130204000000' }),
    });
    expect(other.statusCode).toBe(404);

    expect(await stored()).toBe(3);
  });

  it('is safe to re-run: the same people are unchanged or updated, never duplicated', async () => {
    const again = await upload(county, 'roster.csv', `${HEADER}\n${ROWS.join('\n')}\n`);
    expect(again.json()).toMatchObject({ totalRows: 7, created: 0, updated: 0, unchanged: 3, failed: 4 });

    const changed = ROWS[0].replace('13831500001', '13831509999');
    const third = await upload(county, 'roster.csv', `${HEADER}\n${changed}\n${ROWS[1]}\n`);
    expect(third.json()).toMatchObject({ totalRows: 2, created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect(await stored()).toBe(3);
  });

  it('imports the same roster from an XLSX workbook (title row, English headers, ID as text)', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('花名册');
    sheet.addRow(['路北区老年人花名册（2026年）']); // a title above the header, as bureaus do
    sheet.addRow(['name', 'gender', 'idCardNumber', 'birthDate', 'phone', 'regionCode', 'homeAddress', 'lat', 'lng', 'categories', 'guardianName', 'guardianRelation', 'guardianPhone']);
    for (const line of [ROWS[0].replace('13831500001', '13831509999'), ...ROWS.slice(1)]) {
      const cells: (string | number | Date | null)[] = line.split(',').map((c) => c || null);
      cells[7] = Number(cells[7]); // coordinates as numbers, the way Excel stores them
      cells[8] = Number(cells[8]);
      if (cells[3]) cells[3] = new Date(`${cells[3]}T00:00:00Z`); // a real date cell
      sheet.addRow(cells);
    }
    // An 18-digit ID typed into a number cell: Excel has already lost its last digits.
    sheet.addRow(['周凤英', '女', 130203194901010000, null, null, '130203001001', '文北社区9号楼', 39.64, 118.17]);
    const buffer = Buffer.from(await workbook.xlsx.writeBuffer());
    const res = await upload(county, 'roster.xlsx', buffer, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.statusCode).toBe(201);
    const report = res.json();
    expect(report).toMatchObject({ format: 'xlsx', totalRows: 8, created: 0, updated: 0, unchanged: 3, failed: 5 });
    expect(report.errors.map((e: { row: number; column: string; code: string }) => [e.row, e.column, e.code])).toEqual([
      [5, 'idCardNumber', 'REGISTRY.ID_CARD_INVALID'],
      [6, 'categories', 'ROSTER.CATEGORY_UNKNOWN'],
      [7, 'homeAddress', 'VALIDATION.INVALID_INPUT'],
      [8, 'regionCode', 'AUTH.FORBIDDEN'],
      [10, 'idCardNumber', 'ROSTER.ID_STORED_AS_NUMBER'],
    ]);
    expect(await stored()).toBe(3);
  });

  it('reads a GBK-encoded CSV (what Chinese Excel saves as "CSV")', async () => {
    // Node has no GBK encoder; these are the GBK bytes (from Python's codec) of the header and one row.
    const header = Buffer.from('d0d5c3fb2cd0d4b1f02cc9edb7ddd6a4bac52cc9e7c7f8b4fac2eb2cbcd2cda5d7a1d6b72cceb3b6c82cbeadb6c8', 'hex');
    const decoded = new TextDecoder('gbk').decode(header);
    expect(decoded).toBe('姓名,性别,身份证号,社区代码,家庭住址,纬度,经度');
    const row = Buffer.concat([
      Buffer.from('d5c5b9f0c0bc2cc5ae2c', 'hex'), // 张桂兰,女,
      Buffer.from(`${ZHANG},130203001001,`),
      Buffer.from('cec4b1b1c9e7c7f8', 'hex'), // 文北社区
      Buffer.from(',39.6412,118.1731\n'),
    ]);
    const res = await upload(county, 'gbk.csv', Buffer.concat([header, Buffer.from('\n'), row]));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ encoding: 'gbk', totalRows: 1, failed: 0 });
  });

  it('refuses what is not a roster with a 4xx naming the problem', async () => {
    const missing = await upload(county, 'roster.csv', '姓名,身份证号\n张三,130203194805120025\n');
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'ROSTER.COLUMN_MISSING', field: '性别' });
    expect(missing.json().messageZh).toContain('缺少必需列');

    const xls = await upload(county, 'old.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]));
    expect(xls.statusCode).toBe(415);
    expect(xls.json()).toMatchObject({ code: 'ROSTER.UNSUPPORTED_FILE' });

    const json = await app.inject({ method: 'POST', url: '/elders/import', headers: asPrincipal(county), payload: { rows: [] } });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ code: 'ROSTER.NOT_MULTIPART' });

    const caregiver = await upload({ userId: 'c', role: 'caregiver', caregiverId: 'c1' }, 'roster.csv', `${HEADER}\n`);
    expect(caregiver.statusCode).toBe(403);
  });

  it('serves the template bureau staff fill in', async () => {
    const res = await app.inject({ method: 'GET', url: '/elders/import/template.xlsx', headers: asPrincipal(county) });
    expect(res.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.rawPayload as never);
    const header = workbook.worksheets[0].getRow(1).values as unknown[];
    expect(header.slice(1, 4)).toEqual(['姓名', '性别', '身份证号']);
    // The template's own example row imports cleanly once its community exists.
    const csv = `${(header.slice(1) as string[]).join(',')}\n${(workbook.worksheets[0].getRow(2).values as unknown[]).slice(1).join(',')}\n`;
    const imported = await upload(county, 'template.csv', csv);
    expect(imported.json()).toMatchObject({ failed: 0 });
  });
});
