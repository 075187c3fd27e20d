import { formText } from '../../forms';
import { useId, useState, type FormEvent } from 'react';
import { useCollections, useCreateCollection, useDeleteCollection, type Collection } from '../../hooks/use-collections';
import { useDocumentEvents } from '../../hooks/use-document-events';
import { useDocuments } from '../../hooks/use-documents';
import { plural } from '../../format';
import { EmptyState, MutationError, QueryView } from '../QueryState';
import { AccessEditor } from './AccessEditor';
import { DocumentsTable } from './DocumentsTable';
import { UploadZone } from './UploadZone';

export function DocumentsPage() {
  const collections = useCollections();
  const [selectedId, setSelectedId] = useState<string | null>(null);

  return (
    <>
      <h1 tabIndex={-1}>Documents</h1>
      <div className="split">
        <section className="card split__aside" aria-labelledby="collections-title">
          <h2 id="collections-title">Collections</h2>
          <QueryView query={collections} what="collections">
            {(page) =>
              page.items.length === 0 ? (
                <p className="muted">No collections yet: create the first one below.</p>
              ) : (
                <ul className="pick-list">
                  {page.items.map((collection) => (
                    <li key={collection.id}>
                      <button
                        type="button"
                        className="pick-list__item"
                        aria-pressed={(selectedId ?? page.items[0]?.id) === collection.id}
                        onClick={() => setSelectedId(collection.id)}
                      >
                        <span>{collection.name}</span>
                        <span className="muted small">{plural(collection.documentCount, 'document')}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              )
            }
          </QueryView>
          <CreateCollectionForm onCreated={setSelectedId} />
        </section>
        <div className="split__main">
          {collections.data &&
            (() => {
              const selected = collections.data.items.find((c) => c.id === selectedId) ?? collections.data.items[0];
              return selected ? (
                <CollectionView key={selected.id} collection={selected} onDeleted={() => setSelectedId(null)} />
              ) : (
                <EmptyState>
                  <p>Create a collection to upload documents into it.</p>
                </EmptyState>
              );
            })()}
        </div>
      </div>
    </>
  );
}

function CreateCollectionForm({ onCreated }: { onCreated: (id: string) => void }) {
  const create = useCreateCollection();
  const id = useId();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const name = formText(new FormData(form), 'name').trim();
    create.mutate(
      { name },
      {
        onSuccess: (collection) => {
          form.reset();
          onCreated(collection.id);
        },
      },
    );
  }

  return (
    <form onSubmit={onSubmit} className="inline-form">
      <div className="field">
        <label htmlFor={`${id}-name`}>New collection</label>
        <input id={`${id}-name`} name="name" required maxLength={200} placeholder="e.g. Handbook" />
      </div>
      <button type="submit" className="button button--primary" disabled={create.isPending}>
        Create
      </button>
      <MutationError error={create.error} />
    </form>
  );
}

function CollectionView({ collection, onDeleted }: { collection: Collection; onDeleted: () => void }) {
  const { live } = useDocumentEvents(collection.id);
  const documents = useDocuments(collection.id, { live });
  const remove = useDeleteCollection();
  const [showAccess, setShowAccess] = useState(false);

  return (
    <>
      <div className="section-head" data-live={live ? 'true' : 'false'}>
        <h2 className="section-head__title">{collection.name}</h2>
        <button type="button" className="button button--secondary button--small" aria-expanded={showAccess} onClick={() => setShowAccess(!showAccess)}>
          Collection access
        </button>
        <button
          type="button"
          className="button button--danger button--small"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete the collection ${collection.name} and every document in it?`)) {
              remove.mutate(collection.id, { onSuccess: onDeleted });
            }
          }}
        >
          Delete collection
        </button>
      </div>
      {collection.description && <p className="muted">{collection.description}</p>}
      <MutationError error={remove.error} />
      {showAccess && (
        <section className="card">
          <AccessEditor target="collection" id={collection.id} name={collection.name} />
        </section>
      )}
      <UploadZone collectionId={collection.id} documents={documents.data?.items ?? []} />
      <section className="card" aria-labelledby="documents-title">
        <h2 id="documents-title">Documents</h2>
        <QueryView query={documents} what="documents">
          {(page) => <DocumentsTable documents={page.items} />}
        </QueryView>
      </section>
    </>
  );
}
