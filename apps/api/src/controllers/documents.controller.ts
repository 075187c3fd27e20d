import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@quarry/core';
import { DocumentsService } from '@quarry/documents';
import { Authorize, CurrentPrincipal, Permission } from '@quarry/identity';
import { IntakeService } from '@quarry/ingestion';
import { IdParam } from '../dto/common.dto';
import { DocumentDto, DocumentListQueryDto, DocumentPageDto } from '../dto/documents.dto';

@ApiTags('documents')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('v1/documents')
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly intake: IntakeService,
  ) {}

  /** Current documents (filter by collection or status; `status=failed` lists failures with their reasons). */
  @Authorize(Permission.DocumentsRead)
  @Get()
  @ApiOkResponse({ type: DocumentPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: DocumentListQueryDto) {
    return this.documents.list(principal, query);
  }

  /** The document with every stage run: timings, attempts and errors. */
  @Authorize(Permission.DocumentsRead)
  @Get(':id')
  @ApiOkResponse({ type: DocumentDto })
  get(@CurrentPrincipal() principal: Principal, @Param() params: IdParam) {
    return this.documents.get(principal, params.id, true);
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
