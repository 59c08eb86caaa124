import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ProvidersModule } from '../providers/providers.module';
import { CatalogueModule } from './catalogue.module';
import { PriceList, PriceListSchema } from './price-list.schema';
import { PricesController } from './prices.controller';
import { PricesService } from './prices.service';

/** Apart from CatalogueModule because prices need providers, and providers need the catalogue. */
@Module({
  imports: [MongooseModule.forFeature([{ name: PriceList.name, schema: PriceListSchema }]), CatalogueModule, ProvidersModule],
  controllers: [PricesController],
  providers: [PricesService],
})
export class PricesModule {}
