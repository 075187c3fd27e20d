import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';
import { queryKeys } from '../api/query-keys';
import { useTenantId } from './use-tenant';

export type Document = Schemas['DocumentDto'];
export type DocumentStatus = Document['status'];

const SETTLED: ReadonlySet<DocumentStatus> = new Set<DocumentStatus>(['indexed', 'failed', 'superseded']);

export function isSettled(status: DocumentStatus): boolean {
  return SETTLED.has(status);
}

/** How often the list refreshes while a document is in flight and the live stream is down. */
const LIVE_REFRESH_MS = 1_000;

/**
 * A collection's documents. Progress normally arrives through the live event stream (useDocumentEvents);
 * only while that stream is down does the list poll every second with a document still in progress.
 */
export function useDocuments(collectionId: string, options: { live?: boolean } = {}) {
  const tenantId = useTenantId();
  const live = options.live ?? false;
  return useQuery({
    queryKey: queryKeys.documents(tenantId, collectionId),
    queryFn: ({ signal }) =>
      call(api.GET('/v1/documents', { params: { query: { collectionId, limit: 200 } }, signal }), signal),
    refetchInterval: (query) =>
      !live && query.state.data?.items.some((document) => !isSettled(document.status)) ? LIVE_REFRESH_MS : false,
  });
}

function useInvalidateDocuments() {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: queryKeys.documents(tenantId) }),
      queryClient.invalidateQueries({ queryKey: queryKeys.collections(tenantId) }),
    ]);
}

export function useRetryDocument() {
  const invalidate = useInvalidateDocuments();
  return useMutation({
    mutationFn: (id: string) => call(api.POST('/v1/documents/{id}/retry', { params: { path: { id } } })),
    onSuccess: invalidate,
  });
}

export function useDeleteDocument() {
  const invalidate = useInvalidateDocuments();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/v1/documents/{id}', { params: { path: { id } } })),
    onSuccess: invalidate,
  });
}

export { useInvalidateDocuments };
