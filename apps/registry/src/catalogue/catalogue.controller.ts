import { Body, Controller, Get, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { CatalogueService } from './catalogue.service';

@ApiTags('catalogue 服务目录')
@ApiBearerAuth()
@Controller('catalogue/items')
export class CatalogueController {
  constructor(private readonly catalogue: CatalogueService) {}

  @Get()
  list(@Query() query: Record<string, unknown>) {
    return this.catalogue.list(query);
  }

  /** Declared before `:code` so that `seed` is never read as an item code. */
  @Post('seed')
  @AllowRoles('civil_affairs_admin')
  seed(@Req() req: FastifyRequest) {
    return this.catalogue.seed(String(req.id));
  }

  @Get(':code')
  get(@Param('code') code: string) {
    return this.catalogue.get(code);
  }

  @Put(':code')
  @AllowRoles('civil_affairs_admin')
  upsert(@Param('code') code: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.catalogue.upsert({ ...(body as object), code }, String(req.id));
  }
}
