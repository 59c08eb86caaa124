import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DevicesModule } from '../devices/devices.module';
import { RegistryFactsModule } from '../registry-facts/registry-facts.module';
import { DashboardsController } from './dashboards.controller';
import { DashboardsService } from './dashboards.service';
import { FiguresProjector } from './figures.projector';
import { BudgetFact, BudgetFactSchema, ChargeBudgetParts, ChargeBudgetPartsSchema, FiguresApplied, FiguresAppliedSchema, RegionFigures, RegionFiguresSchema } from './figures.schema';
import { FiguresStore } from './figures.store';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: RegionFigures.name, schema: RegionFiguresSchema },
      { name: FiguresApplied.name, schema: FiguresAppliedSchema },
      { name: BudgetFact.name, schema: BudgetFactSchema },
      { name: ChargeBudgetParts.name, schema: ChargeBudgetPartsSchema },
    ]),
    RegistryFactsModule,
    DevicesModule,
  ],
  controllers: [DashboardsController],
  providers: [FiguresStore, FiguresProjector, DashboardsService],
})
export class DashboardsModule {}
