import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule } from '@yiyang/service-kit';
import { BillingModule } from './billing.module';
import { SERVICE } from './service';

export interface BillingAppOptions {
  /** Consumer-group prefix (tests give each file its own so groups never clash). */
  groupPrefix?: string;
  retry?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number };
}

@Module({})
export class BillingAppModule {
  static forRoot(options: BillingAppOptions = {}): DynamicModule {
    return {
      module: BillingAppModule,
      imports: [ServiceKitModule.forRoot({ ...SERVICE, groupPrefix: options.groupPrefix, retry: options.retry }), BillingModule],
    };
  }
}

@Module({ imports: [BillingAppModule.forRoot()] })
export class AppModule {}
