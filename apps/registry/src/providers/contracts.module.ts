import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module';
import { RegionsModule } from '../regions/regions.module';
import { ContractsController } from './contracts.controller';
import { ContractsService } from './contracts.service';
import { ProvidersModule } from './providers.module';

/** Separate from ProvidersModule because contracts check facilities, and facilities check providers. */
@Module({
  imports: [ProvidersModule, FacilitiesModule, RegionsModule],
  controllers: [ContractsController],
  providers: [ContractsService],
})
export class ContractsModule {}
