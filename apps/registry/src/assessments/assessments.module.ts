import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { EldersModule } from '../elders/elders.module';
import { Assessment, AssessmentSchema } from './assessment.schema';
import { AssessmentsController } from './assessments.controller';
import { AssessmentsService } from './assessments.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: Assessment.name, schema: AssessmentSchema }]), EldersModule],
  controllers: [AssessmentsController],
  providers: [AssessmentsService],
})
export class AssessmentsModule {}
