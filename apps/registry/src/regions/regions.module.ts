import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { RegionsController } from './regions.controller';
import { Region, RegionSchema } from './region.schema';
import { RegionsService } from './regions.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: Region.name, schema: RegionSchema }])],
  controllers: [RegionsController],
  providers: [RegionsService],
  exports: [RegionsService],
})
export class RegionsModule {}
