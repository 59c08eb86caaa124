import { Global, Module } from '@nestjs/common';
import { RegistryView } from './registry-view.service';

@Global()
@Module({ providers: [RegistryView], exports: [RegistryView] })
export class RegistryViewModule {}
