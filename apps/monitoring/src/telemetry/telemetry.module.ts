import { Module } from '@nestjs/common';
import { DeviceDirectoryModule } from '../devices/device-directory.module';
import { VendorsModule } from '../vendors/vendors.module';
import { IngestionService } from './ingestion.service';
import { TelemetryPublisher } from './telemetry-publisher';
import { TelemetryController } from './telemetry.controller';

@Module({
  imports: [DeviceDirectoryModule, VendorsModule],
  controllers: [TelemetryController],
  providers: [IngestionService, TelemetryPublisher],
})
export class TelemetryModule {}
