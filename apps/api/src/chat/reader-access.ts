import { Injectable } from '@nestjs/common';
import { actingUserId, AppError, ErrorCode, type Principal } from '@quarry/core';
import { AccessService, CollectionsService, type CollectionView } from '@quarry/documents';
import { EmbeddingProviders } from '@quarry/models';
import type { SearchCollection } from '@quarry/retrieval';

/** What a caller may search: the collections asked for (unknown → 404) or all, and the reader's ACL tokens. */
@Injectable()
export class ReaderAccess {
  constructor(
    private readonly collections: CollectionsService,
    private readonly access: AccessService,
    private readonly models: EmbeddingProviders,
  ) {}

  async tokens(principal: Principal): Promise<string[]> {
    const userId = actingUserId(principal.actor);
    return userId ? this.access.tokensFor(principal, userId) : [];
  }

  async collectionsFor(principal: Principal, ids: string[] | undefined): Promise<SearchCollection[]> {
    const views: CollectionView[] = [];
    if (ids) {
      const unknown: string[] = [];
      for (const id of new Set(ids)) {
        try {
          views.push(await this.collections.get(principal, id));
        } catch (error) {
          if (error instanceof AppError && error.code === ErrorCode.NotFound) unknown.push(id);
          else throw error;
        }
      }
      if (unknown.length > 0) throw new AppError(404, ErrorCode.NotFound, 'Collection not found', { collectionIds: unknown });
    } else {
      let cursor: string | undefined;
      do {
        const page = await this.collections.list(principal, { limit: 200, ...(cursor ? { cursor } : {}) });
        views.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    const defaultModel = this.models.default().model;
    return views.map((view) => ({ id: view.id, language: view.settings.language, embeddingModel: view.settings.embeddingModel ?? defaultModel }));
  }
}
