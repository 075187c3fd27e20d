import { z } from 'zod';
import { searchSettingsSchema } from './search-settings';

/** Postgres text-search configurations a collection may use for lexical search. */
export const textSearchLanguages = [
  'simple', 'english', 'german', 'french', 'spanish', 'italian', 'portuguese', 'dutch', 'swedish',
  'norwegian', 'danish', 'finnish', 'russian',
] as const;

/** Per-collection settings. Every field has a default, so `{}` is a valid collection. */
export const collectionSettingsSchema = z
  .object({
    chunking: z
      .object({
        maxTokens: z.number().int().min(64).max(8192).default(400),
        overlapTokens: z.number().int().min(0).max(1024).default(60),
      })
      .strict()
      .refine((value) => value.overlapTokens < value.maxTokens, 'overlapTokens must be smaller than maxTokens')
      .default({ maxTokens: 400, overlapTokens: 60 }),
    /** Embedding model id; unset means the deployment's default model. */
    embeddingModel: z.string().min(1).max(200).optional(),
    language: z.enum(textSearchLanguages).default('english'),
    /** Keep this many superseded versions' originals (0 = delete them once a newer version is indexed). */
    keepVersions: z.number().int().min(0).max(100).default(3),
    /** Fusion and reranking for searches of this collection; unset fields use the deployment's defaults. */
    search: searchSettingsSchema.default({}),
  })
  .strict();

export type CollectionSettings = z.infer<typeof collectionSettingsSchema>;

export function readSettings(raw: unknown): CollectionSettings {
  // Stored settings were validated on write; parsing again fills defaults added since.
  return collectionSettingsSchema.parse(raw ?? {});
}
