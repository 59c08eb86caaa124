import ExcelJS from 'exceljs';
import { CATEGORY_LABELS_ZH, ROSTER_COLUMNS } from './roster-columns';

/**
 * The import template bureau staff download: the headers in the order we document, one example row,
 * the ID/phone/code columns formatted as text (so Excel cannot turn an 18-digit ID into 1.30203E+17),
 * and a second sheet saying how to fill each column.
 */
export async function rosterTemplate(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Yiyang 颐养';
  const sheet = workbook.addWorksheet('花名册');
  sheet.columns = ROSTER_COLUMNS.map((c) => ({
    header: c.zh,
    key: c.key,
    width: Math.max(10, c.example.length * 2 + 4),
    style: ['idCardNumber', 'phone', 'regionCode', 'guardianPhone', 'birthDate'].includes(c.key) ? { numFmt: '@' } : {},
  }));
  sheet.addRow(Object.fromEntries(ROSTER_COLUMNS.map((c) => [c.key, c.example])));
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];

  const help = workbook.addWorksheet('填写说明');
  help.columns = [
    { header: '列', key: 'col', width: 16 },
    { header: '必填', key: 'req', width: 6 },
    { header: '说明', key: 'note', width: 90 },
  ];
  const notes: Record<string, string> = {
    name: '老人姓名',
    gender: '填写“男”或“女”',
    idCardNumber: '18位居民身份证号码（末位校验码须正确，X 大小写均可）；请保持该列为“文本”格式',
    birthDate: '可不填（从身份证号读取）；填写时须与身份证号一致，格式 YYYY-MM-DD',
    phone: '手机号（11位）或固定电话（区号-号码）',
    regionCode: '老人所在社区的12位统计用区划代码，须在您的管辖范围内且已登记',
    homeAddress: '详细居住地址',
    lat: '住址纬度（WGS-84，例如 39.6412）',
    lng: '住址经度（WGS-84，例如 118.1731）',
    categories: `可多选，用“、”分隔：${CATEGORY_LABELS_ZH.join('、')}。“高龄”由出生日期自动判定，无需填写`,
    guardianName: '监护人/子女姓名（填写监护人时，姓名、关系、电话须同时填写）',
    guardianRelation: '与老人关系，例如 儿子、女儿、配偶',
    guardianPhone: '监护人联系电话',
    caregiverGender: '可不填；填写“男”“女”或“不限”',
  };
  for (const c of ROSTER_COLUMNS) help.addRow({ col: `${c.zh}（${c.en}）`, req: c.required ? '是' : '否', note: notes[c.key] ?? '' });
  help.addRow({});
  help.addRow({ col: '说明', note: '表头须在前10行内；英文表头（name, gender, idCardNumber…）亦可。同一身份证号重复导入为更新，不会产生重复档案。' });
  help.getRow(1).font = { bold: true };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
