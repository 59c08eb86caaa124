import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { RegionsModule } from '../regions/regions.module';
import { ProvidersController } from './providers.controller';
import { Provider, ProviderSchema } from './provider.schema';
import { ProvidersService } from './providers.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: Provider.name, schema: ProviderSchema }]), RegionsModule, CatalogueModule],
  controllers: [ProvidersController],
  providers: [ProvidersService],
  // The model is shared with the contracts slice, whose records live inside provider documents.
  exports: [ProvidersService, MongooseModule],
})
export class ProvidersModule {}
