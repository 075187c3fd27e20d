import { collectionSettingsSchema, documentStatuses } from '@quarry/documents';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { pageSchema } from './common.dto';

export const collectionSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  settings: z.unknown(),
  documentCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class CollectionDto extends createZodDto(collectionSchema) {}
export class CollectionPageDto extends createZodDto(pageSchema(collectionSchema)) {}

export const accessListSchema = z
  .object({
    everyone: z.boolean().default(false),
    users: z.array(z.uuid()).max(1000).default([]),
    groups: z.array(z.uuid()).max(1000).default([]),
  })
  .strict();
export class AccessListBody extends createZodDto(accessListSchema) {}
export class AccessListDto extends createZodDto(z.object({ everyone: z.boolean(), users: z.array(z.string()), groups: z.array(z.string()) })) {}
export class DocumentAccessDto extends createZodDto(
  z.object({ everyone: z.boolean(), users: z.array(z.string()), groups: z.array(z.string()), inherited: z.boolean(), tokens: z.array(z.string()) }),
) {}
export class AccessExplanationDto extends createZodDto(
  z.object({
    allowed: z.boolean(),
    source: z.enum(['document', 'collection']),
    matchedBy: z.array(z.string()),
    reason: z.string(),
    userTokens: z.array(z.string()),
  }),
) {}
export class ExplainQueryDto extends createZodDto(z.object({ userId: z.uuid() }).strict()) {}

export class CreateCollectionBody extends createZodDto(
  z
    .object({
      name: z.string().trim().min(1).max(100),
      description: z.string().max(2000).optional(),
      settings: collectionSettingsSchema.optional(),
      /** Default readers of the collection's documents; everyone in the tenant when omitted. */
      access: accessListSchema.optional(),
    })
    .strict(),
) {}

export class UpdateCollectionBody extends createZodDto(
  z
    .object({
      name: z.string().trim().min(1).max(100).optional(),
      description: z.string().max(2000).optional(),
      settings: collectionSettingsSchema.partial().optional(),
    })
    .strict()
    .refine((body) => Object.values(body).some((value) => value !== undefined), 'give at least one field to change'),
) {}

export const documentSchema = z.object({
  id: z.string(),
  collectionId: z.string(),
  name: z.string(),
  title: z.string(),
  sourceType: z.string(),
  sourceUri: z.string().nullable(),
  mimeType: z.string().nullable(),
  sizeBytes: z.number(),
  contentHash: z.string().nullable(),
  version: z.number().int(),
  lineageId: z.string(),
  status: z.enum(documentStatuses),
  stage: z.string().nullable(),
  error: z.object({ stage: z.string().nullable(), code: z.string().nullable(), message: z.string() }).nullable(),
  pageCount: z.number().int().nullable(),
  chunkCount: z.number().int(),
  tokenCount: z.number().int(),
  embeddingModel: z.string().nullable(),
  indexedAt: z.string().nullable(),
  supersededAt: z.string().nullable(),
  stale: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  stages: z
    .array(
      z.object({
        stage: z.string(),
        status: z.string(),
        attempt: z.number().int(),
        startedAt: z.string(),
        finishedAt: z.string().nullable(),
        durationMs: z.number().int().nullable(),
        error: z.string().nullable(),
        details: z.unknown(),
      }),
    )
    .optional(),
});
export class DocumentDto extends createZodDto(documentSchema) {}
export class DocumentPageDto extends createZodDto(pageSchema(documentSchema)) {}

export class UploadResultDto extends createZodDto(
  z.object({
    items: z.array(
      z.object({
        file: z.string(),
        document: documentSchema.nullable(),
        duplicate: z.boolean(),
        error: z.object({ code: z.string(), message: z.string() }).nullable(),
      }),
    ),
  }),
) {}

export class SourceBody extends createZodDto(
  z
    .object({
      url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048),
      refreshIntervalMinutes: z.number().int().min(5).max(525_600).optional(),
    })
    .strict(),
) {}

export class IntakeResultDto extends createZodDto(z.object({ document: documentSchema, duplicate: z.boolean() })) {}

export class ReindexBody extends createZodDto(
  z.object({ fromStage: z.enum(['parse', 'chunk', 'embed']).default('parse') }).strict(),
) {}
export class ReindexResultDto extends createZodDto(z.object({ queued: z.number().int() })) {}

export class DocumentListQueryDto extends createZodDto(
  z
    .object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(200).optional(),
      collectionId: z.uuid().optional(),
      status: z.enum(documentStatuses).optional(),
    })
    .strict(),
) {}
