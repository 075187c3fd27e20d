import { chatEnvSchema } from '@quarry/chat';
import { generationEnvSchema } from '@quarry/generation';
import { workerConfigSchema } from '@quarry/core';
import { ingestionWorkerConfigSchema } from '@quarry/ingestion';
import { embeddingEnvSchema, rerankEnvSchema } from '@quarry/models';
import type { z } from 'zod';

/** Everything the worker reads from the environment, validated once at boot. */
export const workerEnvSchema = workerConfigSchema
  .extend(ingestionWorkerConfigSchema.shape)
  .extend(embeddingEnvSchema.shape)
  .extend(rerankEnvSchema.shape)
  .extend(generationEnvSchema.shape)
  .extend(chatEnvSchema.shape);
export type WorkerEnv = z.infer<typeof workerEnvSchema>;
