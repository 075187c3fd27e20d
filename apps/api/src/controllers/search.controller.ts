import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { SearchService } from '@quarry/retrieval';
import { CallerAccess } from '../chat/caller-access';
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
    private readonly reader: CallerAccess,
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
    const collections = await this.reader.collectionsFor(principal, body.collectionIds);
    const readerTokens = await this.reader.tokens(principal);
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
}
