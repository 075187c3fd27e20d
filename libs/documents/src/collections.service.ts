import { Injectable } from '@nestjs/common';
import { AuditWriter } from '@quarry/audit';
import { AppError, decodeCursor, toPage, type Page, type PageQuery, type Principal, type TenantScope } from '@quarry/core';
import { Database, isUniqueViolation, type CollectionModel } from '@quarry/db';
import { AccessService } from './access.service';
import { collectionSettingsSchema, readSettings, type CollectionSettings } from './collection-settings';

export interface CollectionView {
  id: string;
  name: string;
  description: string;
  settings: CollectionSettings;
  documentCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface CollectionInput {
  name: string;
  description?: string;
  settings?: unknown;
  /** Default readers of the collection's documents; everyone in the tenant when omitted. */
  access?: { everyone: boolean; users: string[]; groups: string[] };
}

type CollectionWithCount = CollectionModel & { _count: { documents: number } };

const countCurrent = { _count: { select: { documents: { where: { supersededAt: null } } } } } as const;

@Injectable()
export class CollectionsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditWriter,
    private readonly access: AccessService,
  ) {}

  async list(scope: TenantScope, page: PageQuery): Promise<Page<CollectionView>> {
    const after = decodeCursor(page.cursor);
    const rows = await this.db.tenant(scope, (tx) =>
      tx.collection.findMany({
        where: { tenantId: scope.tenantId, ...(after ? { id: { gt: after } } : {}) },
        include: countCurrent,
        orderBy: { id: 'asc' },
        take: page.limit + 1,
      }),
    );
    return toPage(rows, page.limit, toView);
  }

  async get(scope: TenantScope, id: string): Promise<CollectionView> {
    const row = await this.db.tenant(scope, (tx) =>
      tx.collection.findFirst({ where: { tenantId: scope.tenantId, id }, include: countCurrent }),
    );
    if (!row) throw AppError.notFound('Collection');
    return toView(row);
  }

  /** Just the settings, for the ingestion worker: `get` also counts the collection's documents. */
  async settings(scope: TenantScope, id: string): Promise<CollectionSettings> {
    const row = await this.db.tenant(scope, (tx) =>
      tx.collection.findFirst({ where: { tenantId: scope.tenantId, id }, select: { settings: true } }),
    );
    if (!row) throw AppError.notFound('Collection');
    return readSettings(row.settings);
  }

  async create(principal: Principal, input: CollectionInput): Promise<CollectionView> {
    const settings = collectionSettingsSchema.parse(input.settings ?? {});
    return this.uniqueName(() =>
      this.db.tenant(principal, async (tx) => {
        const row = await tx.collection.create({
          data: { tenantId: principal.tenantId, name: input.name, description: input.description ?? '', settings },
          include: countCurrent,
        });
        const access = input.access ?? { everyone: true, users: [], groups: [] };
        await this.access.replaceCollectionGrants(tx, principal, row.id, access);
        await this.audit.record(principal, {
          action: 'collection.create',
          outcome: 'success',
          target: { type: 'collection', id: row.id },
          metadata: { name: row.name, access },
        });
        return toView(row);
      }),
    );
  }

  /** Returns the updated view and whether the embedding model changed (callers re-embed in the background). */
  async update(
    principal: Principal,
    id: string,
    input: Partial<CollectionInput>,
  ): Promise<{ collection: CollectionView; embeddingModelChanged: boolean; chunkingChanged: boolean; languageChanged: boolean }> {
    return this.uniqueName(() =>
      this.db.tenant(principal, async (tx) => {
        const before = await tx.collection.findFirst({ where: { tenantId: principal.tenantId, id } });
        if (!before) throw AppError.notFound('Collection');
        const previous = readSettings(before.settings);
        const settings =
          input.settings === undefined ? previous : collectionSettingsSchema.parse({ ...previous, ...(input.settings as object) });
        const row = await tx.collection.update({
          where: { id, tenantId: principal.tenantId },
          data: { name: input.name, description: input.description, settings },
          include: countCurrent,
        });
        const embeddingModelChanged = previous.embeddingModel !== settings.embeddingModel;
        const chunkingChanged = JSON.stringify(previous.chunking) !== JSON.stringify(settings.chunking);
        const languageChanged = previous.language !== settings.language;
        await this.audit.record(principal, {
          action: 'collection.update',
          outcome: 'success',
          target: { type: 'collection', id },
          metadata: { embeddingModelChanged, chunkingChanged, languageChanged, name: row.name },
        });
        return { collection: toView(row), embeddingModelChanged, chunkingChanged, languageChanged };
      }),
    );
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.db.tenant(principal, async (tx) => {
      const { count } = await tx.collection.deleteMany({ where: { tenantId: principal.tenantId, id } });
      if (count === 0) throw AppError.notFound('Collection');
      await this.audit.record(principal, { action: 'collection.delete', outcome: 'success', target: { type: 'collection', id } });
    });
  }

  private async uniqueName<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.conflict('A collection with this name already exists');
      throw error;
    }
  }
}

function toView(row: CollectionWithCount): CollectionView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    settings: readSettings(row.settings),
    documentCount: row._count.documents,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
