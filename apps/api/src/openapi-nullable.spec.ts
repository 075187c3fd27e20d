import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiOkResponse } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { buildOpenApiDocument } from './openapi';

class ThingDto extends createZodDto(
  z.object({
    note: z.string().nullable(),
    tags: z.array(z.string()),
    size: z.number().nullable(),
    nested: z.object({ inner: z.string().nullable() }),
  }),
) {}
class ThingBody extends createZodDto(z.object({ label: z.string().nullable() })) {}

@Controller('things')
class ThingsController {
  @Get()
  @ApiOkResponse({ type: ThingDto })
  get(): ThingDto {
    return { note: null, tags: [], size: null, nested: { inner: null } };
  }

  @Post()
  create(@Body() body: ThingBody): ThingBody {
    return body;
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

type Properties = Record<string, unknown>;

describe('OpenAPI document: nullable fields (nestjs-zod#473 workaround)', () => {
  it('documents a DTO’s own nullable fields as nullable, in responses and bodies, and keeps real arrays', async () => {
    const app = await NestFactory.create(ThingsModule, { preview: true, logger: false });
    try {
      const schemas = buildOpenApiDocument(app).components?.schemas ?? {};
      const thing = (schemas.ThingDto as { properties: Properties }).properties;
      assert.deepEqual(thing.note, { type: ['string', 'null'] });
      assert.deepEqual(thing.size, { type: ['number', 'null'] });
      assert.deepEqual(thing.tags, { type: 'array', items: { type: 'string' } });
      assert.deepEqual((thing.nested as { properties: Properties }).properties.inner, { type: ['string', 'null'] });
      const body = (schemas.ThingBody as { properties: Properties }).properties;
      assert.deepEqual(body.label, { type: ['string', 'null'] });
    } finally {
      await app.close();
    }
  });
});
