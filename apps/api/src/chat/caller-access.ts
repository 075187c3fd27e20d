import { Injectable } from '@nestjs/common';
import { actingUserId, type Principal } from '@quarry/core';
import { ReaderAccess } from '@quarry/documents';
import { EmbeddingProviders } from '@quarry/models';
import type { SearchCollection } from '@quarry/retrieval';

/** The caller's searchable collections (default embedding model filled in) and ACL tokens. */
@Injectable()
export class CallerAccess {
  constructor(
    private readonly reader: ReaderAccess,
    private readonly models: EmbeddingProviders,
  ) {}

  async tokens(principal: Principal): Promise<string[]> {
    const userId = actingUserId(principal.actor);
    return userId ? this.reader.tokens(principal, userId) : [];
  }

  async collectionsFor(principal: Principal, ids: string[] | undefined): Promise<SearchCollection[]> {
    const defaultModel = this.models.default().model;
    const collections = await this.reader.collectionsFor(principal, ids);
    return collections.map((collection) => ({ ...collection, embeddingModel: collection.embeddingModel ?? defaultModel }));
  }
}
