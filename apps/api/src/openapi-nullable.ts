import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';

const API_RESPONSE = 'swagger/apiResponse';

type JsonSchema = Record<string, unknown>;
interface ZodDtoClass {
  name: string;
  schema: z.ZodType;
}

function isZodDto(value: unknown): value is ZodDtoClass {
  return typeof value === 'function' && 'schema' in value && value.schema instanceof z.ZodType;
}

/** Every zod DTO a controller method takes or answers with (parameter types and @Api*Response types). */
function controllerDtos(app: INestApplication): Map<string, ZodDtoClass> {
  const dtos = new Map<string, ZodDtoClass>();
  const add = (value: unknown) => {
    if (isZodDto(value)) dtos.set(value.name, value);
  };
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
      if (!prototype) continue;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const method: unknown = Reflect.get(prototype, key);
        if (key === 'constructor' || typeof method !== 'function') continue;
        const params = Reflect.getMetadata('design:paramtypes', prototype, key) as unknown[] | undefined;
        params?.forEach(add);
        const responses = Reflect.getMetadata(API_RESPONSE, method) as Record<string, { type?: unknown }> | undefined;
        Object.values(responses ?? {}).forEach((response) => add(response.type));
      }
    }
  }
  return dtos;
}

/**
 * Works around nestjs-zod#473: a DTO's own nullable field (`z.string().nullable()`) is described as
 * `type: array` because @nestjs/swagger reads zod's `type: ["string", "null"]` as an array. Each such
 * property is replaced with zod's own JSON schema for it, so generated clients get `string | null`.
 */
export function restoreNullableFields(app: INestApplication, document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  for (const [name, dto] of controllerDtos(app)) {
    const component = schemas[name] as JsonSchema | undefined;
    const documented = component?.properties as Record<string, JsonSchema> | undefined;
    if (!documented) continue;
    const generated = z.toJSONSchema(dto.schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
    const properties = (generated.properties ?? {}) as Record<string, JsonSchema>;
    for (const [property, schema] of Object.entries(properties)) {
      const type = schema.type;
      if (Array.isArray(type) && type.includes('null') && documented[property]?.type === 'array') {
        documented[property] = schema;
      }
    }
  }
  return document;
}
