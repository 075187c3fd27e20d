import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { queryKeys } from '../api/query-keys';
import type { Document, DocumentStatus } from './use-documents';
import { useTenantId } from './use-tenant';

/** A `document` event of `GET /v1/collections/{id}/events` (see the OpenAPI description). */
interface DocumentEvent {
  collectionId: string;
  documentId: string;
  phase: string;
  status: string;
  stage: string | null;
  error: { code: string; message: string } | null;
}

interface DocumentPage {
  items: Document[];
}

/** Events that change more than status and stage (new rows, counts, removals) refetch the list. */
const REFETCH_PHASES = new Set(['queued', 'indexed', 'unchanged', 'deleted']);

function applyEvent(queryClient: QueryClient, key: readonly unknown[], event: DocumentEvent): void {
  const page = queryClient.getQueryData<DocumentPage>(key);
  const known = page?.items.some((document) => document.id === event.documentId) ?? false;
  if (page && known) {
    queryClient.setQueryData<DocumentPage>(key, {
      ...page,
      items: page.items.map((document) =>
        document.id === event.documentId
          ? {
              ...document,
              status: event.status as DocumentStatus,
              stage: event.stage,
              error: event.error ? { stage: event.stage, ...event.error } : null,
            }
          : document,
      ),
    });
  }
  if (!known || REFETCH_PHASES.has(event.phase)) void queryClient.invalidateQueries({ queryKey: key });
}

/**
 * Follows a collection's live progress stream (EventSource, same origin, session cookie) and writes each
 * event into the documents query cache. Returns whether the stream is healthy: while it is not (an error,
 * EventSource reconnecting), the documents list falls back to polling.
 */
export function useDocumentEvents(collectionId: string): { live: boolean } {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  const [live, setLive] = useState(false);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const key = queryKeys.documents(tenantId, collectionId);
    const source = new EventSource(`/v1/collections/${encodeURIComponent(collectionId)}/events`, { withCredentials: true });
    // The snapshot opens every (re)connection: refetch once so anything missed in between is covered.
    source.addEventListener('snapshot', () => {
      setLive(true);
      void queryClient.invalidateQueries({ queryKey: key });
    });
    source.addEventListener('document', (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as DocumentEvent;
      if (event.collectionId === collectionId) applyEvent(queryClient, key, event);
    });
    source.onerror = () => setLive(false);
    return () => {
      source.close();
      setLive(false);
    };
  }, [tenantId, collectionId, queryClient]);

  return { live };
}
