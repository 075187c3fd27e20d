import { chatEnvSchema, chatModelEnvSchema } from '@quarry/chat';
import { workerConfigSchema } from '@quarry/core';
import { ingestionWorkerConfigSchema } from '@quarry/ingestion';
import { embeddingEnvSchema } from '@quarry/models';
import type { z } from 'zod';

/** Everything the worker reads from the environment, validated once at boot. */
export const workerEnvSchema = workerConfigSchema.extend(ingestionWorkerConfigSchema.shape).extend(embeddingEnvSchema.shape).extend(chatEnvSchema.shape).extend(chatModelEnvSchema.shape);
export type WorkerEnv = z.infer<typeof workerEnvSchema>;
