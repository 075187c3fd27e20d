import { chatEnvSchema } from '@quarry/chat';
import { apiConfigSchema } from '@quarry/core';
import { generationEnvSchema } from '@quarry/generation';
import { ingestionConfigSchema } from '@quarry/ingestion';
import { embeddingEnvSchema, rerankEnvSchema } from '@quarry/models';
import type { z } from 'zod';

/** Everything the API reads from the environment, validated once at boot. */
// The embedding settings tell the API which model ids exist (models load only in workers).
export const apiEnvSchema = apiConfigSchema
  .extend(ingestionConfigSchema.shape)
  .extend(embeddingEnvSchema.shape)
  .extend(rerankEnvSchema.shape)
  .extend(generationEnvSchema.shape)
  .extend(chatEnvSchema.shape);
export type ApiEnv = z.infer<typeof apiEnvSchema>;
