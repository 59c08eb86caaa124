import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditModule } from '../audit/audit.module';
import { RegionsModule } from '../regions/regions.module';
import { Elder, ElderSchema } from './elder.schema';
import { EldersController } from './elders.controller';
import { EldersService } from './elders.service';
import { ImportEventBatches } from './import-events';
import { PiiVault } from './pii';

@Module({
  imports: [MongooseModule.forFeature([{ name: Elder.name, schema: ElderSchema }]), RegionsModule, AuditModule],
  controllers: [EldersController],
  providers: [EldersService, PiiVault, ImportEventBatches],
  exports: [EldersService, ImportEventBatches],
})
export class EldersModule {}
