import { Controller, Get, Module } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { Connection } from 'mongoose';
import { forbidden } from '../shared/scope';
import { chinaDate } from '../shared/time';
import { viewOf, type OrderDoc } from './order.types';
import { OrdersModule } from './orders.module';

/** The caregiver's day: offers to answer, orders to serve, visits in progress, rounds due. */
@ApiTags('my-day 我的今日（护理员）')
@ApiBearerAuth()
@Controller('my-day')
export class MyDayController {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  @Get()
  @AllowRoles('caregiver')
  @ApiOperation({ summary: "Today's work of the caregiver in the token." })
  async myDay(@CurrentPrincipal() p: Principal) {
    if (!p.caregiverId) throw forbidden();
    const today = chinaDate(new Date());
    const orders = await this.connection
      .collection<OrderDoc>('orders')
      .find({ caregiverId: p.caregiverId, state: { $in: ['ASSIGNED', 'ACCEPTED', 'EN_ROUTE', 'CHECKED_IN'] } }, { projection: { outbox: 0 } })
      .sort({ 'window.from': 1 })
      .limit(200)
      .toArray();
    const rounds = await this.connection
      .collection('rounds')
      .find({ assigneeId: p.caregiverId, state: { $in: ['DUE', 'ASSIGNED', 'OVERDUE'] } }, { projection: { outbox: 0, outboxPending: 0 } })
      .sort({ dueOn: 1 })
      .limit(200)
      .toArray();
    const views = orders.map(viewOf);
    return {
      date: today,
      offers: views.filter((o) => o.state === 'ASSIGNED'),
      inProgress: views.filter((o) => o.state === 'CHECKED_IN'),
      today: views.filter((o) => o.state !== 'ASSIGNED' && o.state !== 'CHECKED_IN' && chinaDate(new Date(o.window.from)) <= today),
      upcoming: views.filter((o) => o.state !== 'ASSIGNED' && o.state !== 'CHECKED_IN' && chinaDate(new Date(o.window.from)) > today),
      rounds: rounds.map(({ _id, ...r }) => ({ roundId: _id, ...r })),
    };
  }
}

@Module({ imports: [OrdersModule], controllers: [MyDayController] })
export class MyDayModule {}
