import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DeviceDirectory } from './device-directory';
import { Device, DeviceSchema } from './device.schema';

/**
 * The device registry in memory, on its own: what ingestion needs (vendor's id → our device), without
 * the device API and the registry read model behind it. DevicesModule re-exports it, so a process
 * running both has one directory.
 */
@Module({
  imports: [MongooseModule.forFeature([{ name: Device.name, schema: DeviceSchema }])],
  providers: [DeviceDirectory],
  exports: [DeviceDirectory],
})
export class DeviceDirectoryModule {}
