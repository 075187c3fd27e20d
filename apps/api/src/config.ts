import { apiConfigSchema } from '@quarry/core';
import { ingestionConfigSchema } from '@quarry/ingestion';
import type { z } from 'zod';

/** Everything the API reads from the environment, validated once at boot. */
export const apiEnvSchema = apiConfigSchema.extend(ingestionConfigSchema.shape);
export type ApiEnv = z.infer<typeof apiEnvSchema>;
