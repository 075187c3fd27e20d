import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { actingUserId, type Principal } from '@quarry/core';
import { AccessService, DocumentsService } from '@quarry/documents';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { IntakeService } from '@quarry/ingestion';
import { IdParam } from '../dto/common.dto';
import {
  AccessExplanationDto,
  AccessListBody,
  DocumentAccessDto,
  DocumentDto,
  DocumentListQueryDto,
  DocumentPageDto,
  ExplainQueryDto,
} from '../dto/documents.dto';

@ApiTags('documents')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/documents')
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly intake: IntakeService,
    private readonly access: AccessService,
  ) {}

  /** Current documents (filter by collection or status; `status=failed` lists failures with their reasons). */
  @Authorize(Permission.DocumentsRead)
  @Get()
  @ApiOkResponse({ type: DocumentPageDto })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: DocumentListQueryDto) {
    const readerTokens = await this.readerTokens(principal);
    return this.documents.list(principal, { ...query, ...(readerTokens ? { readerTokens } : {}) });
  }

  /** The document with every stage run: timings, attempts and errors. */
  @Authorize(Permission.DocumentsRead)
  @Get(':id')
  @ApiOkResponse({ type: DocumentDto })
  async get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.documents.get(principal, params.id, true, await this.readerTokens(principal));
  }

  @Authorize(Permission.CollectionsManage)
  @Get(':id/access')
  @ApiOkResponse({ type: DocumentAccessDto })
  getAccess(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.access.documentAccess(principal, params.id);
  }

  /** Gives the document its own readers, replacing its collection's default for it. */
  @Authorize(Permission.CollectionsManage)
  @Put(':id/access')
  @ApiOkResponse({ type: DocumentAccessDto })
  setAccess(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Body() body: AccessListBody) {
    return this.access.setDocumentAccess(principal, params.id, body);
  }

  /** Drops the document's own readers: it follows its collection's default again. */
  @Authorize(Permission.CollectionsManage)
  @Delete(':id/access')
  @ApiOkResponse({ type: DocumentAccessDto })
  inheritAccess(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.access.setDocumentAccess(principal, params.id, null);
  }

  /** Why a given user can or cannot read this document. */
  @Authorize(Permission.CollectionsManage, Permission.UsersRead)
  @Get(':id/access/explain')
  @ApiOkResponse({ type: AccessExplanationDto })
  explain(@CurrentPrincipal() principal: Principal, @Param() params: IdParam, @Query() query: ExplainQueryDto) {
    return this.access.explain(principal, params.id, query.userId);
  }

  /** Administrators see every document; everyone else only what they may read (the rest is "not found"). */
  private async readerTokens(principal: Principal): Promise<string[] | undefined> {
    if (principal.permissions.has(Permission.CollectionsManage)) return undefined;
    const userId = actingUserId(principal.actor);
    return userId ? this.access.tokensFor(principal, userId) : [];
  }

  /** Removes the document, its original, chunks, vectors and cached embeddings. */
  @Authorize(Permission.DocumentsWrite)
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: IdParam): Promise<void> {
    await this.intake.remove(principal, params.id);
  }

  /** Re-fetch a URL source now (ETag/Last-Modified; unchanged sources are not re-processed). */
  @Authorize(Permission.DocumentsWrite)
  @Post(':id/refresh')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DocumentDto })
  refresh(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.intake.refresh(principal, params.id);
  }

  /** Re-drive a failed document from the stage that failed. */
  @Authorize(Permission.DocumentsWrite)
  @Post(':id/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DocumentDto })
  retry(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.intake.retry(principal, params.id);
  }
}
