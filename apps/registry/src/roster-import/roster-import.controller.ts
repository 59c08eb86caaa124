import { Controller, Get, Header, Param, Post, Req, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, AppError, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { ROSTER_UPLOAD_LIMIT_BYTES } from './multipart';
import { RosterImportService, type ImportReport } from './roster-import.service';
import { rosterTemplate } from './roster-template';

@ApiTags('elders 老年人')
@ApiBearerAuth()
@Controller('elders/import')
export class RosterImportController {
  constructor(private readonly imports: RosterImportService) {}

  @Post()
  @AllowRoles('civil_affairs_admin')
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    summary: 'Import an elder roster (花名册导入): one .csv (UTF-8 or GBK) or .xlsx file in the multipart field "file"',
    description:
      'Streams the file; good rows are created or updated (same ID number ⇒ same person), bad rows are reported with the ' +
      'spreadsheet row number and column header. The full error report: GET /elders/import/{importId}/errors.csv.',
  })
  async import(@CurrentPrincipal() principal: Principal, @Req() req: FastifyRequest): Promise<ImportReport> {
    if (typeof req.isMultipart !== 'function' || !req.isMultipart()) {
      throw new AppError('ROSTER.NOT_MULTIPART', 415, 'Send the roster as multipart/form-data with the file in the "file" field', {
        field: 'file',
        messageZh: '请以 multipart/form-data 方式上传花名册文件（字段名 file）',
      });
    }
    const part = await req.file({ limits: { fileSize: ROSTER_UPLOAD_LIMIT_BYTES, files: 1, fields: 10, parts: 20 } });
    if (!part) {
      throw new AppError('ROSTER.FILE_MISSING', 400, 'No file in the upload', { field: 'file', messageZh: '未收到上传的文件' });
    }
    const file = part.file;
    let truncated = false;
    // busboy stops at the size limit and says so with 'limit'; the importer then refuses the file
    // instead of importing a half-cut last row.
    file.once('limit', () => {
      truncated = true;
      file.destroy(new AppError('ROSTER.FILE_TOO_LARGE', 413, 'The roster file exceeds the upload limit', { field: 'file' }));
    });
    return this.imports.importRoster(principal, file, {
      fileName: part.filename ?? '',
      correlationId: String(req.id),
      isTruncated: () => truncated || file.truncated,
    });
  }

  @Get('template.xlsx')
  @AllowRoles('civil_affairs_admin')
  @ApiOperation({ summary: 'The roster template (导入模板): headers, one example row and filling instructions' })
  @Header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  @Header('content-disposition', `attachment; filename="roster-template.xlsx"; filename*=UTF-8''${encodeURIComponent('老年人花名册导入模板.xlsx')}`)
  async template(): Promise<StreamableFile> {
    return new StreamableFile(await rosterTemplate());
  }

  @Get(':importId/errors.csv')
  @AllowRoles('civil_affairs_admin')
  @ApiOperation({ summary: 'Every row error of an import run as CSV (UTF-8 with BOM, opens in Excel)' })
  @Header('content-type', 'text/csv; charset=utf-8')
  async errors(@CurrentPrincipal() principal: Principal, @Param('importId') importId: string): Promise<StreamableFile> {
    const run = await this.imports.requireRun(principal, importId);
    return new StreamableFile(this.imports.errorReport(run._id), {
      disposition: `attachment; filename="import-${run._id}-errors.csv"`,
    });
  }
}
