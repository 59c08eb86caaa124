import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { VendorsModule } from '../vendors/vendors.module';
import { IngestionService } from './ingestion.service';
import { TelemetryPublisher } from './telemetry-publisher';
import { TelemetryController } from './telemetry.controller';

@Module({
  imports: [DevicesModule, VendorsModule],
  controllers: [TelemetryController],
  providers: [IngestionService, TelemetryPublisher],
})
export class TelemetryModule {}
