import { useId, useRef, useState, type DragEvent } from 'react';
import { isApiError } from '../../api/client';
import { uploadFile } from '../../api/upload';
import { isSettled, useInvalidateDocuments, type Document } from '../../hooks/use-documents';
import { PipelineProgress } from './PipelineProgress';
import { statusLabel, stepsDone } from './pipeline';

interface Upload {
  key: string;
  name: string;
  fraction: number;
  documentId?: string;
  duplicate?: boolean;
  error?: string;
}

/** Files sent at once; the rest wait their turn so one big drop does not open dozens of requests. */
const PARALLEL_UPLOADS = 3;
let uploadCounter = 0;

export function UploadZone({ collectionId, documents }: { collectionId: string; documents: Document[] }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const invalidate = useInvalidateDocuments();
  const id = useId();

  const update = (key: string, change: Partial<Upload>) =>
    setUploads((current) => current.map((upload) => (upload.key === key ? { ...upload, ...change } : upload)));

  async function send(files: File[]) {
    const batch = files.map((file) => ({ file, key: `u${++uploadCounter}` }));
    setUploads((current) => [...batch.map(({ file, key }) => ({ key, name: file.name, fraction: 0 })), ...current]);
    const queue = [...batch];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { file, key } = next;
        try {
          const result = await uploadFile(collectionId, file, (fraction) => update(key, { fraction }));
          const item = result.items[0];
          if (item?.error) update(key, { error: `${item.error.message} (${item.error.code})` });
          else update(key, { documentId: item?.document?.id, duplicate: item?.duplicate ?? false });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          update(key, { error: isApiError(error) ? `${message} (${error.code})` : message });
        }
        void invalidate();
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, batch.length) }, worker));
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    const files = [...event.dataTransfer.files];
    if (files.length > 0) void send(files);
  }

  const byId = new Map(documents.map((document) => [document.id, document]));
  const active = uploads.some((upload) => !upload.error && !settledOf(upload, byId));

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Upload</h2>
      <div
        className={`dropzone${dragging ? ' dropzone--active' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drag files here (PDF, Word, HTML, Markdown, text…), or</p>
        <button type="button" className="button button--secondary" onClick={() => inputRef.current?.click()}>
          Choose files
        </button>
        <input
          ref={inputRef}
          id={`${id}-input`}
          type="file"
          multiple
          className="visually-hidden"
          aria-label="Files to upload"
          onChange={(event) => {
            const files = [...(event.currentTarget.files ?? [])];
            event.currentTarget.value = '';
            if (files.length > 0) void send(files);
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads" aria-busy={active}>
          {uploads.map((upload) => (
            <UploadRow key={upload.key} upload={upload} document={upload.documentId ? byId.get(upload.documentId) : undefined} />
          ))}
        </ul>
      )}
    </section>
  );
}

function settledOf(upload: Upload, byId: Map<string, Document>): boolean {
  const document = upload.documentId ? byId.get(upload.documentId) : undefined;
  return document ? isSettled(document.status) : false;
}

function UploadRow({ upload, document }: { upload: Upload; document: Document | undefined }) {
  if (upload.error) {
    return (
      <li className="upload">
        <span className="upload__name">{upload.name}</span>
        <PipelineProgress label={upload.name} done={upload.fraction} stage="Upload failed" failed />
        <span className="upload__status text-danger">Upload failed: {upload.error}</span>
      </li>
    );
  }
  const status = document?.status ?? (upload.documentId ? 'queued' : 'uploading');
  const stage = status === 'uploading' ? `Uploading ${Math.round(upload.fraction * 100)}%` : statusLabel(status);
  return (
    <li className="upload" data-status={status}>
      <span className="upload__name">{upload.name}</span>
      <PipelineProgress label={upload.name} done={stepsDone(status, upload.fraction)} stage={stage} failed={status === 'failed'} />
      <span className="upload__status" aria-live="polite">
        {stage}
        {upload.duplicate ? ' (already uploaded: same content)' : ''}
        {document?.error ? `: ${document.error.message}` : ''}
      </span>
    </li>
  );
}
