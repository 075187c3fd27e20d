import { Body, Controller, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { actingUserId, AppError, CONFIG, ErrorCode, type Principal } from '@quarry/core';
import { AccessService, CollectionsService, TenantSearchSettingsService, type CollectionView, type SearchSettings } from '@quarry/documents';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { EmbeddingProviders, type RerankEnv } from '@quarry/models';
import { fusionDefaults, Rerankers, resolveFusion, SearchService, type RerankRequest, type SearchCollection } from '@quarry/retrieval';
import { SearchBody, SearchResponseDto, SearchSettingsDto } from '../dto/search.dto';

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
    private readonly rerankers: Rerankers,
    private readonly tenantSettings: TenantSearchSettingsService,
    @Inject(CONFIG) private readonly config: RerankEnv,
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
    const { collections, settings, notices } = await this.resolveCollections(principal, body.collectionIds);
    const tenant = await this.tenantSettings.get(principal);
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
      fusion: resolveFusion(fusionDefaults, tenant.fusion, settings.fusion, body.fusion),
      ...this.rerankRequest(body, { ...tenant.rerank, ...settings.rerank }),
      debug: body.debug,
    });
    return { ...response, notices: [...notices, ...response.notices] };
  }

  /** The tenant's search settings: fusion and reranking for collections that set none of their own. */
  @Authorize(Permission.Search)
  @Get('settings')
  @ApiOkResponse({ type: SearchSettingsDto })
  getSettings(@CurrentPrincipal() principal: Principal): Promise<SearchSettingsDto> {
    return this.tenantSettings.get(principal);
  }

  @Authorize(Permission.CollectionsManage)
  @Put('settings')
  @ApiOkResponse({ type: SearchSettingsDto })
  putSettings(@CurrentPrincipal() principal: Principal, @Body() body: SearchSettingsDto): Promise<SearchSettingsDto> {
    return this.tenantSettings.put(principal, body);
  }

  /** Request → collection → tenant → deployment: whether to rerank, with which reranker, how many candidates, how long. */
  private rerankRequest(body: SearchBody, rerank: NonNullable<SearchSettings['rerank']>): { rerank?: RerankRequest } {
    if (!(body.rerank ?? rerank.enabled ?? false)) return {};
    return {
      rerank: {
        provider: body.rerankProvider ?? rerank.provider ?? this.rerankers.defaultName,
        candidates: rerank.candidates ?? this.config.RERANK_CANDIDATES,
        timeoutMs: rerank.timeoutMs ?? this.config.RERANK_TIMEOUT_MS,
      },
    };
  }

  /**
   * The searched collections, and their search settings: those of the collection when one is searched, or
   * when all searched collections agree; otherwise the deployment's defaults, with a notice.
   */
  private async resolveCollections(
    principal: Principal,
    ids: string[] | undefined,
  ): Promise<{ collections: SearchCollection[]; settings: SearchSettings; notices: string[] }> {
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
    const collections = views.map((view) => ({ id: view.id, language: view.settings.language, embeddingModel: view.settings.embeddingModel ?? defaultModel }));
    const distinct = new Set(views.map((view) => JSON.stringify(view.settings.search)));
    if (distinct.size <= 1) return { collections, settings: views[0]?.settings.search ?? {}, notices: [] };
    return {
      collections,
      settings: {},
      notices: ['The searched collections have different search settings; the deployment defaults apply (search one collection, or pass fusion in the request)'],
    };
  }
}
