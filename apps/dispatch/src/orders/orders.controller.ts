import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, AppError, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OrdersService } from './orders.service';

const ORDERING = ['elder', 'guardian', 'provider_operator', 'civil_affairs_admin'] as const;
const READING = ['elder', 'guardian', 'provider_operator', 'civil_affairs_admin', 'caregiver', 'auditor'] as const;

@ApiTags('orders 服务订单')
@ApiBearerAuth()
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @AllowRoles(...ORDERING)
  @ApiOperation({ summary: 'Place an order (one catalogue item, ASAP or a window). Same Idempotency-Key ⇒ same order (200).' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async place(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { created, order } = await this.orders.place(principal, body, key, String(req.id));
    void reply.status(created ? 201 : 200);
    return order;
  }

  @Get()
  @AllowRoles(...READING)
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.orders.list(principal, query);
  }

  @Get(':orderId')
  @AllowRoles(...READING)
  get(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string) {
    return this.orders.get(principal, orderId);
  }

  @Post(':orderId/accept')
  @HttpCode(200)
  @AllowRoles('caregiver')
  accept(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Req() req: FastifyRequest) {
    return this.orders.accept(principal, orderId, String(req.id));
  }

  @Post(':orderId/decline')
  @HttpCode(200)
  @AllowRoles('caregiver')
  decline(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.orders.decline(principal, orderId, body, String(req.id));
  }

  @Post(':orderId/en-route')
  @HttpCode(200)
  @AllowRoles('caregiver')
  enRoute(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Req() req: FastifyRequest) {
    return this.orders.enRoute(principal, orderId, String(req.id));
  }

  @Post(':orderId/assign')
  @HttpCode(200)
  @AllowRoles('provider_operator', 'civil_affairs_admin')
  @ApiOperation({ summary: 'Assign or reassign a caregiver by hand (escalated orders, changes of plan).' })
  assign(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.orders.assign(principal, orderId, body, String(req.id));
  }

  @Post(':orderId/cancel')
  @HttpCode(200)
  @AllowRoles(...ORDERING)
  cancel(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.orders.cancel(principal, orderId, body, String(req.id));
  }

  @Post(':orderId/rating')
  @HttpCode(200)
  @AllowRoles('elder', 'guardian')
  rate(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.orders.rate(principal, orderId, body, String(req.id));
  }
}

/** Caregiver-facing: my offers, accept, decline — the caregiver comes from the token, never the path. */
@ApiTags('offers 派单（护理员）')
@ApiBearerAuth()
@Controller('offers')
export class OffersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @AllowRoles('caregiver')
  mine(@CurrentPrincipal() principal: Principal, @Query('mine') mine: string | undefined) {
    if (mine !== undefined && mine !== '1' && mine !== 'true') {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'mine must be 1', { field: 'mine', messageZh: 'mine 只能为 1' });
    }
    return this.orders.myOffers(principal);
  }

  @Post(':orderId/accept')
  @HttpCode(200)
  @AllowRoles('caregiver')
  accept(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Req() req: FastifyRequest) {
    return this.orders.accept(principal, orderId, String(req.id));
  }

  @Post(':orderId/decline')
  @HttpCode(200)
  @AllowRoles('caregiver')
  decline(@CurrentPrincipal() principal: Principal, @Param('orderId') orderId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.orders.decline(principal, orderId, body, String(req.id));
  }
}
