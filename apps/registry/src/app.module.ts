import { Module } from '@nestjs/common';
import { ServiceKitModule } from '@yiyang/service-kit';
import { SERVICE } from './service';

@Module({
  imports: [ServiceKitModule.forRoot(SERVICE)],
})
export class AppModule {}
