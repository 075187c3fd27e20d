import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type TenantScope } from '@quarry/core';
import { AccessService } from './access.service';
import { CollectionsService, type CollectionView } from './collections.service';

export interface ReadableCollection {
  id: string;
  language: string;
  /** Null: the deployment's default embedding model. */
  embeddingModel: string | null;
}

/**
 * What one user may search: the collections asked for (any unknown → 404) or all of the tenant's, and the
 * user's ACL tokens (their id, their groups, everyone), which retrieval applies inside every query.
 */
@Injectable()
export class ReaderAccess {
  constructor(
    private readonly collections: CollectionsService,
    private readonly access: AccessService,
  ) {}

  tokens(scope: TenantScope, userId: string): Promise<string[]> {
    return this.access.tokensFor(scope, userId);
  }

  async collectionsFor(scope: TenantScope, ids: readonly string[] | undefined): Promise<ReadableCollection[]> {
    const views: CollectionView[] = [];
    if (ids) {
      const unknown: string[] = [];
      for (const id of new Set(ids)) {
        try {
          views.push(await this.collections.get(scope, id));
        } catch (error) {
          if (error instanceof AppError && error.code === ErrorCode.NotFound) unknown.push(id);
          else throw error;
        }
      }
      if (unknown.length > 0) throw new AppError(404, ErrorCode.NotFound, 'Collection not found', { collectionIds: unknown });
    } else {
      let cursor: string | undefined;
      do {
        const page = await this.collections.list(scope, { limit: 200, ...(cursor ? { cursor } : {}) });
        views.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return views.map((view) => ({ id: view.id, language: view.settings.language, embeddingModel: view.settings.embeddingModel ?? null }));
  }
}
