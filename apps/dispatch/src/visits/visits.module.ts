import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module';
import { VisitsController } from './visits.controller';
import { VisitsService } from './visits.service';

@Module({ imports: [OrdersModule], controllers: [VisitsController], providers: [VisitsService] })
export class VisitsModule {}
