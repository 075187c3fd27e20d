import { useState } from 'react';
import { formatBytes, formatDate } from '../../format';
import { isSettled, useDeleteDocument, useRetryDocument, type Document } from '../../hooks/use-documents';
import { EmptyState, MutationError } from '../QueryState';
import { AccessEditor } from './AccessEditor';
import { PipelineProgress } from './PipelineProgress';
import { statusLabel, stepsDone } from './pipeline';

export function DocumentsTable({ documents }: { documents: Document[] }) {
  const retry = useRetryDocument();
  const remove = useDeleteDocument();
  const [accessFor, setAccessFor] = useState<string | null>(null);

  if (documents.length === 0) {
    return (
      <EmptyState>
        <p>No documents in this collection yet. Upload some above.</p>
      </EmptyState>
    );
  }

  return (
    <>
      <MutationError error={retry.error ?? remove.error} />
      <div className="table-wrap">
        <table className="table table--stack">
          <caption className="visually-hidden">Documents</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Chunks</th>
              <th scope="col">Size</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {documents.map((document) => (
              <DocumentRow
                key={document.id}
                document={document}
                accessOpen={accessFor === document.id}
                onAccess={() => setAccessFor(accessFor === document.id ? null : document.id)}
                onRetry={() => retry.mutate(document.id)}
                onDelete={() => {
                  if (window.confirm(`Delete ${document.name}? It disappears from search at once.`)) remove.mutate(document.id);
                }}
                busy={retry.isPending || remove.isPending}
              />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

interface RowProps {
  document: Document;
  accessOpen: boolean;
  onAccess: () => void;
  onRetry: () => void;
  onDelete: () => void;
  busy: boolean;
}

function DocumentRow({ document, accessOpen, onAccess, onRetry, onDelete, busy }: RowProps) {
  const failed = document.status === 'failed';
  return (
    <>
      <tr data-document={document.name} data-status={document.status}>
        <th scope="row" className="cell-name">
          {document.title || document.name}
          {document.title && document.title !== document.name && <span className="muted small block">{document.name}</span>}
        </th>
        <td data-label="Status">
          <span className={`badge badge--${document.status}`}>{statusLabel(document.status)}</span>
          {!isSettled(document.status) && (
            <PipelineProgress label={document.name} done={stepsDone(document.status)} stage={statusLabel(document.status)} />
          )}
          {failed && document.error && (
            <p className="text-danger small">
              {document.error.stage ? `${document.error.stage}: ` : ''}
              {document.error.message}
              {document.error.code ? ` (${document.error.code})` : ''}
            </p>
          )}
        </td>
        <td data-label="Chunks">{document.chunkCount}</td>
        <td data-label="Size" className="nowrap">{formatBytes(document.sizeBytes)}</td>
        <td data-label="Updated">{formatDate(document.updatedAt)}</td>
        <td className="cell-actions">
          <div className="cell-actions__buttons">
            {failed && (
              <button type="button" className="button button--primary button--small" onClick={onRetry} disabled={busy}>
                Retry<span className="visually-hidden"> {document.name}</span>
              </button>
            )}
            <button type="button" className="button button--secondary button--small" onClick={onAccess} aria-expanded={accessOpen}>
              Access<span className="visually-hidden"> for {document.name}</span>
            </button>
            <button type="button" className="button button--danger button--small" onClick={onDelete} disabled={busy}>
              Delete<span className="visually-hidden"> {document.name}</span>
            </button>
          </div>
        </td>
      </tr>
      {accessOpen && (
        <tr className="row-detail">
          <td colSpan={6}>
            <AccessEditor target="document" id={document.id} name={document.name} />
          </td>
        </tr>
      )}
    </>
  );
}
