import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AlertsModule } from '../alerts/alerts.module';
import { DevicesModule } from '../devices/devices.module';
import { RegistryFactsModule } from '../registry-facts/registry-facts.module';
import { RuleEngine } from './rule-engine';
import {
  AlertThresholdDoc,
  AlertThresholdSchema,
  DeviceRuleStateDoc,
  DeviceRuleStateSchema,
  ElderRuleStateDoc,
  ElderRuleStateSchema,
  RuleSnapshotDoc,
  RuleSnapshotSchema,
} from './rule-state.schema';
import { ThresholdsController } from './thresholds.controller';
import { ThresholdsService } from './thresholds.service';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: DeviceRuleStateDoc.name, schema: DeviceRuleStateSchema },
      { name: ElderRuleStateDoc.name, schema: ElderRuleStateSchema },
      { name: AlertThresholdDoc.name, schema: AlertThresholdSchema },
      { name: RuleSnapshotDoc.name, schema: RuleSnapshotSchema },
    ]),
    DevicesModule,
    AlertsModule,
    RegistryFactsModule,
  ],
  controllers: [ThresholdsController],
  providers: [RuleEngine, ThresholdsService],
  exports: [RuleEngine],
})
export class RulesModule {}
