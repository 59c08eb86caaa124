import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { VendorsService } from './vendors.service';

/** Vendor platforms (device makers' clouds) are a platform-level concern: bureau admins manage them. */
@ApiTags('vendors 设备厂商接入')
@ApiBearerAuth()
@Controller('vendors')
export class VendorsController {
  constructor(private readonly vendors: VendorsService) {}

  @Get()
  @AllowRoles('civil_affairs_admin', 'auditor')
  list() {
    return this.vendors.list();
  }

  @Get(':vendorId')
  @AllowRoles('civil_affairs_admin', 'auditor')
  get(@Param('vendorId') vendorId: string) {
    return this.vendors.get(vendorId);
  }

  /** Registers a vendor and returns its API key — shown this once, only its hash is kept. */
  @Post()
  @AllowRoles('civil_affairs_admin')
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.vendors.create(principal, body);
  }

  @Post(':vendorId/keys')
  @HttpCode(200)
  @AllowRoles('civil_affairs_admin')
  rotate(@Param('vendorId') vendorId: string) {
    return this.vendors.rotateKey(vendorId);
  }

  @Patch(':vendorId')
  @AllowRoles('civil_affairs_admin')
  setActive(@Param('vendorId') vendorId: string, @Body() body: unknown) {
    return this.vendors.setActive(vendorId, body);
  }
}
