import { Injectable } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { GenerationModels } from '@quarry/generation';
import type { ChatModels, ChatModelSet } from './ports';

/**
 * Chat's models are the tenant's generation chain (primary first, falling back on errors before the first
 * token); when the budget says to fall back, chat skips the primary and uses the rest of the chain.
 */
@Injectable()
export class TenantChatModels implements ChatModels {
  constructor(private readonly generation: GenerationModels) {}

  async forTenant(scope: TenantScope): Promise<ChatModelSet> {
    const { chain } = await this.generation.forTenant(scope);
    const fallback = chain.withoutPrimary();
    return { primary: chain, ...(fallback ? { fallback } : {}) };
  }
}
