import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { RegistryFactsModule } from '../registry-facts/registry-facts.module';
import { VendorsModule } from '../vendors/vendors.module';
import { DeviceDirectoryModule } from './device-directory.module';
import { Device, DeviceSchema } from './device.schema';
import { DevicesController } from './devices.controller';
import { DevicesService } from './devices.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: Device.name, schema: DeviceSchema }]), DeviceDirectoryModule, RegistryFactsModule, VendorsModule],
  controllers: [DevicesController],
  providers: [DevicesService],
  exports: [DeviceDirectoryModule, DevicesService],
})
export class DevicesModule {}
