import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiHeader, ApiTags } from '@nestjs/swagger';
import { Public } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { VendorsService } from '../vendors/vendors.service';
import { IngestionService } from './ingestion.service';

/**
 * Vendor platforms push here. Not a user call: it carries the vendor's API key instead of the
 * gateway's internal token (the route is public to the token guard and checks the key itself).
 */
@ApiTags('telemetry 设备数据接入')
@Controller('telemetry')
export class TelemetryController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly vendors: VendorsService,
  ) {}

  /**
   * `{ readings: [{ externalId, kind, at, seq?, battery?, vitals?, loc?, level? }] }` → 200
   * `{ accepted, rejected: [{ index, code, field, reason, reasonZh }] }`.
   */
  @Post()
  @Public()
  @HttpCode(200)
  @ApiHeader({ name: 'x-api-key', description: 'yyv.<vendorId>.<secret>, issued by POST /vendors', required: true })
  async ingest(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown, @Req() req: FastifyRequest) {
    const vendorId = await this.vendors.authenticate(apiKey);
    return this.ingestion.ingest(vendorId, body, String(req.id));
  }
}
