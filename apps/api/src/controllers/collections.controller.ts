import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConsumes, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppError, CONFIG, ErrorCode, type Principal } from '@quarry/core';
import { AccessService, CollectionsService } from '@quarry/documents';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { IntakeService, type IngestionConfig } from '@quarry/ingestion';
import { EmbeddingProviders } from '@quarry/models';
import type { Request } from 'express';
import { IdParam, PageQueryDto } from '../dto/common.dto';
import {
  AccessListBody,
  AccessListDto,
  CollectionDto,
  CollectionPageDto,
  CreateCollectionBody,
  IntakeResultDto,
  ReindexBody,
  ReindexResultDto,
  SourceBody,
  UpdateCollectionBody,
  UploadResultDto,
} from '../dto/documents.dto';
import { readMultipartFiles } from '../http/multipart';

@ApiTags('collections')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/collections')
export class CollectionsController {
  constructor(
    private readonly collections: CollectionsService,
    private readonly intake: IntakeService,
    @Inject(CONFIG) private readonly config: IngestionConfig,
    private readonly models: EmbeddingProviders,
    private readonly access: AccessService,
  ) {}

  @Authorize(Permission.CollectionsRead)
  @Get()
  @ApiOkResponse({ type: CollectionPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto) {
    return this.collections.list(principal, query);
  }

  @Authorize(Permission.CollectionsManage)
  @Post()
  @ApiCreatedResponse({ type: CollectionDto })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateCollectionBody) {
    this.requireKnownModel(body.settings?.embeddingModel);
    return this.collections.create(principal, body);
  }

  @Authorize(Permission.CollectionsRead)
  @Get(':id')
  @ApiOkResponse({ type: CollectionDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.collections.get(principal, params.id);
  }

  /** A new embedding model re-embeds every document in the background; the old vectors serve until then. */
  @Authorize(Permission.CollectionsManage)
  @Patch(':id')
  @ApiOkResponse({ type: CollectionDto })
  async update(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: UpdateCollectionBody) {
    this.requireKnownModel(body.settings?.embeddingModel);
    const result = await this.collections.update(principal, params.id, body);
    if (result.chunkingChanged) await this.intake.reindex(principal, params.id, 'chunk', 'reindex');
    else if (result.embeddingModelChanged) await this.intake.reindex(principal, params.id, 'embed', 'model_change');
    else if (result.languageChanged) await this.intake.reindex(principal, params.id, 'index', 'reindex');
    return result.collection;
  }

  @Authorize(Permission.CollectionsManage)
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.intake.removeCollection(principal, params.id);
  }

  private requireKnownModel(model: string | undefined): void {
    if (model !== undefined && !this.models.models.includes(model)) {
      throw new AppError(400, ErrorCode.ValidationFailed, `Unknown embedding model "${model}"`, {
        fields: [{ path: 'settings.embeddingModel', message: `must be one of: ${this.models.models.join(', ')}` }],
      });
    }
  }

  /**
   * Upload one or many files (multipart/form-data, any field name). Each is streamed to storage and gets
   * a document id and status at once; processing continues in the background. The same bytes again return
   * the existing document (`duplicate: true`).
   */
  @Authorize(Permission.DocumentsWrite)
  @Post(':id/documents')
  @HttpCode(202)
  @ApiConsumes('multipart/form-data')
  @ApiAcceptedResponse({ type: UploadResultDto })
  async upload(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Req() req: Request): Promise<UploadResultDto> {
    await this.collections.get(principal, params.id);
    const items: UploadResultDto['items'] = [];
    await readMultipartFiles(req, { maxFiles: this.config.UPLOAD_MAX_FILES, maxFileBytes: this.config.UPLOAD_MAX_BYTES }, async (file) => {
      try {
        const result = await this.intake.upload(principal, params.id, file);
        items.push({ file: file.filename, document: result.document, duplicate: result.duplicate, error: null });
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        items.push({ file: file.filename, document: null, duplicate: false, error: { code: error.code, message: error.message } });
      }
    });
    if (items.length === 0) {
      throw new AppError(400, ErrorCode.ValidationFailed, 'The upload contains no files', { fields: [{ path: 'file', message: 'is required' }] });
    }
    const accepted = items.filter((item) => item.document !== null);
    if (accepted.length === 0 && items.length === 1 && items[0]?.error) {
      const only = items[0].error;
      throw new AppError(only.code === ErrorCode.PayloadTooLarge ? 413 : 400, only.code as ErrorCode, only.message);
    }
    return { items };
  }

  /** Register a URL source; with refreshIntervalMinutes it is re-fetched on that schedule (ETag/Last-Modified). */
  @Authorize(Permission.DocumentsWrite)
  @Post(':id/sources')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: IntakeResultDto })
  source(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: SourceBody) {
    return this.intake.registerUrl(principal, params.id, body);
  }

  /** The collection's default readers (documents without their own access list follow it). */
  @Authorize(Permission.CollectionsManage)
  @Get(':id/access')
  @ApiOkResponse({ type: AccessListDto })
  getAccess(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.access.collectionAccess(principal, params.id);
  }

  /** Replaces the default readers; takes effect on the next query. */
  @Authorize(Permission.CollectionsManage)
  @Put(':id/access')
  @ApiOkResponse({ type: AccessListDto })
  setAccess(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: AccessListBody) {
    return this.access.setCollectionAccess(principal, params.id, body);
  }

  /** Re-process every current document of the collection from a stage (default: parse). */
  @Authorize(Permission.CollectionsManage)
  @Post(':id/reindex')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: ReindexResultDto })
  async reindex(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: ReindexBody): Promise<ReindexResultDto> {
    return { queued: await this.intake.reindex(principal, params.id, body.fromStage, 'reindex') };
  }
}
