import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, CONFIG, ErrorCode, type TenantScope } from '@quarry/core';
import { LlamaCppGenerationProvider } from '@quarry/generation';
import { z } from 'zod';
import type { ChatModels, ChatModelSet } from './ports';

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

/**
 * The deployment's chat model until per-tenant model configuration lands: the embedded llama.cpp model
 * (bundled TinyLlama, or a GGUF at CHAT_MODEL_PATH), or none.
 */
export const chatModelEnvSchema = z.object({
  CHAT_MODEL: z.enum(['embedded', 'none']).default('embedded'),
  CHAT_MODEL_PATH: z.string().min(1).optional(),
  CHAT_MODEL_CACHE_DIR: z.string().min(1).default('.quarry/models'),
  CHAT_MODEL_GPU: z.enum(['false', 'auto', 'cuda', 'vulkan', 'metal']).default('false'),
  CHAT_MODEL_THREADS: positiveInt(256).default(2),
  CHAT_MODEL_CONCURRENCY: positiveInt(64).default(2),
  CHAT_MODEL_CONTEXT: positiveInt(131_072).default(2_048),
  CHAT_MODEL_QUEUE_TIMEOUT_MS: positiveInt(600_000).default(120_000),
});
export type ChatModelEnv = z.infer<typeof chatModelEnvSchema>;

@Injectable()
export class DeploymentChatModels implements ChatModels {
  private readonly models: ChatModelSet | undefined;

  constructor(@Inject(CONFIG) config: ChatModelEnv) {
    if (config.CHAT_MODEL === 'embedded') {
      const primary = new LlamaCppGenerationProvider({
        modelPath: config.CHAT_MODEL_PATH,
        cacheDir: path.resolve(config.CHAT_MODEL_CACHE_DIR),
        gpu: config.CHAT_MODEL_GPU === 'false' ? false : config.CHAT_MODEL_GPU,
        threads: config.CHAT_MODEL_THREADS,
        concurrency: config.CHAT_MODEL_CONCURRENCY,
        contextSize: config.CHAT_MODEL_CONTEXT,
        queueTimeoutMs: config.CHAT_MODEL_QUEUE_TIMEOUT_MS,
        // The small quantised default loops without a repeat penalty.
        repeatPenalty: 1.1,
      });
      this.models = { primary };
    }
  }

  forTenant(_scope: TenantScope): Promise<ChatModelSet> {
    if (!this.models) return Promise.reject(new AppError(503, ErrorCode.ModelUnavailable, 'No generation model is configured for this deployment'));
    return Promise.resolve(this.models);
  }
}
