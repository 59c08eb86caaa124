import { Module } from '@nestjs/common';
import { OffersController, OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({ controllers: [OrdersController, OffersController], providers: [OrdersService], exports: [OrdersService] })
export class OrdersModule {}
