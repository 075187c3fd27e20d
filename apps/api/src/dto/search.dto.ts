import { fusionOverridesSchema, searchSettingsSchema } from '@quarry/documents';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const metadataValue = z.union([z.string().max(500), z.number(), z.boolean()]);

export class SearchBody extends createZodDto(
  z
    .object({
      query: z.string().trim().min(1, 'must not be empty').max(4000, 'must be at most 4,000 characters'),
      /** Collections to search; all collections of the tenant when omitted. */
      collectionIds: z.array(z.uuid()).min(1).max(50).optional(),
      topK: z.number().int().min(1).max(100).default(10),
      mode: z.enum(['dense', 'lexical', 'hybrid']).default('hybrid'),
      /** Rerank the fused candidates; unset uses the collection's setting (off unless it says otherwise). */
      rerank: z.boolean().optional(),
      /** A configured reranker by name ('learned', 'http', 'cross-encoder'); unset uses the collection's or the deployment's. */
      rerankProvider: z.string().regex(/^[a-z0-9-]{1,40}$/).optional(),
      /** Overrides the collection's and the deployment's fusion, field by field, within bounds. */
      fusion: fusionOverridesSchema.optional(),
      filters: z
        .object({
          documentIds: z.array(z.uuid()).max(1000).optional(),
          metadata: z
            .record(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'metadata field names are letters, digits, _ . -'), metadataValue)
            .refine((value) => Object.keys(value).length <= 20, 'at most 20 metadata fields')
            .optional(),
          createdAfter: z.iso.datetime({ offset: true }).optional(),
          createdBefore: z.iso.datetime({ offset: true }).optional(),
        })
        .strict()
        .default({}),
      debug: z.boolean().default(false),
    })
    .strict(),
) {}

const stageScores = z.object({ lexical: z.number().nullable(), dense: z.number().nullable(), fused: z.number(), rerank: z.number().nullable() });

export class SearchResponseDto extends createZodDto(
  z.object({
    results: z.array(
      z.object({
        rank: z.number().int(),
        chunkId: z.string(),
        documentId: z.string(),
        collectionId: z.string(),
        documentName: z.string(),
        documentTitle: z.string(),
        text: z.string(),
        headingPath: z.array(z.string()),
        pageStart: z.number().int().nullable(),
        pageEnd: z.number().int().nullable(),
        scores: stageScores,
      }),
    ),
    rerank: z.object({
      requested: z.boolean(),
      applied: z.boolean(),
      provider: z.string().nullable(),
      /** Why reranking did not apply (not configured, failed, timed out): never silently skipped. */
      reason: z.string().nullable(),
      timingMs: z.number(),
    }),
    fusion: z.object({
      method: z.enum(['rrf', 'weighted']),
      normalisation: z.enum(['minmax', 'zscore']),
      rrfK: z.number(),
      weights: z.object({ lexical: z.number(), dense: z.number() }),
      candidates: z.object({ lexical: z.number().int(), dense: z.number().int() }),
    }),
    notices: z.array(z.string()),
    timingsMs: z.object({ embed: z.number(), lexical: z.number(), dense: z.number(), fuse: z.number(), rerank: z.number(), total: z.number() }),
    trace: z
      .array(
        z.object({
          stage: z.string(),
          timingMs: z.number(),
          candidates: z.array(z.object({ chunkId: z.string(), rank: z.number().int(), score: z.number() })),
        }),
      )
      .optional(),
  }),
) {}

/** A tenant's search settings (PUT replaces them; `{}` returns to the deployment's defaults). */
export class SearchSettingsDto extends createZodDto(searchSettingsSchema) {}
