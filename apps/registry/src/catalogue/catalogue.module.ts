import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CatalogueController } from './catalogue.controller';
import { CatalogueItem, CatalogueItemSchema } from './catalogue-item.schema';
import { CatalogueService } from './catalogue.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: CatalogueItem.name, schema: CatalogueItemSchema }])],
  controllers: [CatalogueController],
  providers: [CatalogueService],
  exports: [CatalogueService],
})
export class CatalogueModule {}
