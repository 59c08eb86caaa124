import { Module } from '@nestjs/common';
import { OrderIntake } from './order-intake.service';
import { OffersController, OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({ controllers: [OrdersController, OffersController], providers: [OrdersService, OrderIntake], exports: [OrdersService, OrderIntake] })
export class OrdersModule {}
