import { Body, Controller, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { DevicesService } from './devices.service';

const READERS = ['civil_affairs_admin', 'auditor', 'assessor', 'guardian', 'elder'] as const;

@ApiTags('devices 智能设备')
@ApiBearerAuth()
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @AllowRoles(...READERS)
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.devices.list(principal, query);
  }

  @Get(':deviceId')
  @AllowRoles(...READERS)
  get(@CurrentPrincipal() principal: Principal, @Param('deviceId') deviceId: string) {
    return this.devices.get(principal, deviceId);
  }

  @Post()
  @AllowRoles('civil_affairs_admin')
  register(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.devices.register(principal, body, String(req.id));
  }

  @Patch(':deviceId')
  @AllowRoles('civil_affairs_admin')
  update(@CurrentPrincipal() principal: Principal, @Param('deviceId') deviceId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.devices.update(principal, deviceId, body, String(req.id));
  }

  @Put(':deviceId/binding')
  @AllowRoles('civil_affairs_admin')
  rebind(@CurrentPrincipal() principal: Principal, @Param('deviceId') deviceId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.devices.rebind(principal, deviceId, body, String(req.id));
  }

  @Post(':deviceId/unbind')
  @HttpCode(200)
  @AllowRoles('civil_affairs_admin')
  unbind(@CurrentPrincipal() principal: Principal, @Param('deviceId') deviceId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.devices.unbind(principal, deviceId, body, String(req.id));
  }
}
