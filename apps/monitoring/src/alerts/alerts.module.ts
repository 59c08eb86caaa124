import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { RegistryFactsModule } from '../registry-facts/registry-facts.module';
import { Alert, AlertDeadline, AlertDeadlineSchema, AlertSchema } from './alert.schema';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Alert.name, schema: AlertSchema },
      { name: AlertDeadline.name, schema: AlertDeadlineSchema },
    ]),
    RegistryFactsModule,
  ],
  controllers: [AlertsController],
  providers: [AlertsService],
  exports: [AlertsService],
})
export class AlertsModule {}
