import 'reflect-metadata';
import { itBootsReady } from '@yiyang/service-kit/testing';
import { AppModule } from './app.module';
import { SERVICE } from './service';

itBootsReady(AppModule.forRoot({ groupPrefix: `test-boot-${process.pid}-${Date.now()}` }), SERVICE);
