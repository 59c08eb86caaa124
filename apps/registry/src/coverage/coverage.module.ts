import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module';
import { CoverageController } from './coverage.controller';
import { CoverageService } from './coverage.service';

@Module({
  imports: [FacilitiesModule],
  controllers: [CoverageController],
  providers: [CoverageService],
})
export class CoverageModule {}
