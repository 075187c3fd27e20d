import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { actingUserId, AppError, ErrorCode, type Principal } from '@quarry/core';
import { AccessService, CollectionsService, type CollectionView } from '@quarry/documents';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { EmbeddingProviders } from '@quarry/models';
import { SearchService, type SearchCollection } from '@quarry/retrieval';
import { SearchBody, SearchResponseDto } from '../dto/search.dto';

/** Fusion defaults; per-collection settings will override them once evals have chosen better ones. */
const fusionDefaults = { method: 'rrf', weights: { lexical: 1, dense: 1 }, rrfK: 60, candidates: 100 } as const;

@ApiTags('search')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/search')
export class SearchController {
  constructor(
    private readonly search: SearchService,
    private readonly collections: CollectionsService,
    private readonly access: AccessService,
    private readonly models: EmbeddingProviders,
  ) {}

  /**
   * Hybrid (BM25 + dense), lexical or dense search over the documents the caller may read: the ACL is
   * applied inside every query, before ranking. `debug: true` returns each stage's candidates and timings.
   */
  @Authorize(Permission.Search)
  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: SearchResponseDto })
  async run(@CurrentPrincipal() principal: Principal, @Body() body: SearchBody): Promise<SearchResponseDto> {
    const collections = await this.resolveCollections(principal, body.collectionIds);
    const userId = actingUserId(principal.actor);
    const readerTokens = userId ? await this.access.tokensFor(principal, userId) : [];
    const response = await this.search.search(principal, {
      query: body.query,
      collections,
      topK: body.topK,
      mode: body.mode,
      filters: {
        ...(body.filters.documentIds ? { documentIds: body.filters.documentIds } : {}),
        ...(body.filters.metadata ? { metadata: body.filters.metadata } : {}),
        ...(body.filters.createdAfter ? { createdAfter: new Date(body.filters.createdAfter) } : {}),
        ...(body.filters.createdBefore ? { createdBefore: new Date(body.filters.createdBefore) } : {}),
      },
      readerTokens,
      fusion: { method: fusionDefaults.method, weights: { ...fusionDefaults.weights }, rrfK: fusionDefaults.rrfK, candidates: Math.max(fusionDefaults.candidates, body.topK) },
      debug: body.debug,
    });
    return {
      ...response,
      // No reranker is configured yet: say so rather than pretend.
      rerank: { requested: body.rerank, applied: false, reason: body.rerank ? 'No reranker is configured for this deployment' : null },
    };
  }

  private async resolveCollections(principal: Principal, ids: string[] | undefined): Promise<SearchCollection[]> {
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
