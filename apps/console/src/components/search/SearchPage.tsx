import { formText } from '../../forms';
import { useId, useState, type FormEvent } from 'react';
import { formatMs, plural } from '../../format';
import { useCollections } from '../../hooks/use-collections';
import { useSearch, type SearchRequest, type SearchResponse } from '../../hooks/use-search';
import { EmptyState, ErrorState, LoadingState } from '../QueryState';

type Mode = NonNullable<SearchRequest['mode']>;
const MODES: ReadonlyArray<{ value: Mode; label: string }> = [
  { value: 'hybrid', label: 'Hybrid (lexical + dense, fused)' },
  { value: 'lexical', label: 'Lexical (BM25)' },
  { value: 'dense', label: 'Dense (embeddings)' },
];

export function SearchPage() {
  const search = useSearch();
  const collections = useCollections();
  const id = useId();
  const [collectionId, setCollectionId] = useState('');

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    search.mutate({
      query: formText(data, 'query'),
      mode: formText(data, 'mode') as Mode,
      topK: Number(data.get('topK')),
      rerank: data.get('rerank') === 'on',
      debug: true,
      ...(collectionId ? { collectionIds: [collectionId] } : {}),
    });
  }

  return (
    <>
      <h1 tabIndex={-1}>Search debug</h1>
      <p className="muted">Run a query as yourself (your document permissions apply) and see what each stage found.</p>
      <form className="card search-form" onSubmit={onSubmit} role="search" aria-busy={search.isPending}>
        <div className="field search-form__query">
          <label htmlFor={`${id}-query`}>Query</label>
          <input id={`${id}-query`} name="query" type="search" required maxLength={4000} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-mode`}>Mode</label>
          <select id={`${id}-mode`} name="mode" defaultValue="hybrid">
            {MODES.map((mode) => (
              <option key={mode.value} value={mode.value}>
                {mode.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-collection`}>Collection</label>
          <select id={`${id}-collection`} value={collectionId} onChange={(event) => setCollectionId(event.currentTarget.value)}>
            <option value="">All collections</option>
            {collections.data?.items.map((collection) => (
              <option key={collection.id} value={collection.id}>
                {collection.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-topk`}>Results</label>
          <input id={`${id}-topk`} name="topK" type="number" min={1} max={100} defaultValue={10} />
        </div>
        <label className="check">
          <input type="checkbox" name="rerank" /> Rerank
        </label>
        <button type="submit" className="button button--primary" disabled={search.isPending}>
          Search
        </button>
      </form>
      {search.isPending && <LoadingState label="Searching…" />}
      {search.error && <ErrorState title="Search failed" error={search.error} />}
      {search.data && <SearchResults response={search.data} />}
    </>
  );
}

function SearchResults({ response }: { response: SearchResponse }) {
  const names = new Map(response.results.map((result) => [result.chunkId, result.documentTitle || result.documentName]));
  return (
    <>
      {response.notices.length > 0 && (
        <ul className="notices" aria-label="Notices">
          {response.notices.map((notice) => (
            <li key={notice} className="alert alert--warning">
              {notice}
            </li>
          ))}
        </ul>
      )}
      {response.rerank.requested && !response.rerank.applied && (
        <p className="alert alert--warning">Not reranked: {response.rerank.reason ?? 'no reranker configured'}.</p>
      )}
      <section className="card" aria-labelledby="timings-title">
        <h2 id="timings-title">Timings</h2>
        <dl className="timings">
          {Object.entries(response.timingsMs).map(([stage, ms]) => (
            <div key={stage}>
              <dt>{stage}</dt>
              <dd>{formatMs(ms)}</dd>
            </div>
          ))}
        </dl>
      </section>
      <section className="card" aria-labelledby="results-title">
        <h2 id="results-title">Results ({response.results.length})</h2>
        {response.results.length === 0 ? (
          <EmptyState>
            <p>Nothing found that you may read.</p>
          </EmptyState>
        ) : (
          <ol className="results">
            {response.results.map((result) => (
              <li key={result.chunkId} className="result">
                <p className="result__head">
                  <strong>
                    {result.rank}. {result.documentTitle || result.documentName}
                  </strong>
                  {result.pageStart !== null && (
                    <span className="muted small">
                      {' '}
                      p. {result.pageStart}
                      {result.pageEnd !== null && result.pageEnd !== result.pageStart ? `–${result.pageEnd}` : ''}
                    </span>
                  )}
                  {result.headingPath.length > 0 && <span className="muted small"> · {result.headingPath.join(' › ')}</span>}
                </p>
                <p className="result__scores small">
                  fused <code>{result.scores.fused.toFixed(4)}</code> · lexical{' '}
                  <code>{result.scores.lexical?.toFixed(4) ?? '—'}</code> · dense <code>{result.scores.dense?.toFixed(4) ?? '—'}</code>
                </p>
                <p className="result__text">{result.text.replace(/\n{2,}/g, '\n')}</p>
              </li>
            ))}
          </ol>
        )}
      </section>
      <section className="stages-section" aria-labelledby="stages-title">
        <h2 id="stages-title">Candidates per stage</h2>
        <div className="stages">
          {(response.trace ?? []).map((stage) => (
            <section key={stage.stage} className="card stage" aria-label={`Stage ${stage.stage}`}>
              <h3>
                <span className="stage__name">{stage.stage}</span>{' '}
                <span className="muted small">
                  {plural(stage.candidates.length, 'candidate')} · {formatMs(stage.timingMs)}
                </span>
              </h3>
              {stage.candidates.length === 0 ? (
                <p className="muted small">No candidates.</p>
              ) : (
                <table className="table table--compact">
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Chunk</th>
                      <th scope="col">Score</th>
                    </tr>
                  </thead>
                  <tbody>
                    {stage.candidates.map((candidate) => (
                      <tr key={candidate.chunkId}>
                        <td>{candidate.rank}</td>
                        <td>
                          {names.get(candidate.chunkId) ?? <span className="muted">not in results</span>}{' '}
                          <code className="small">{candidate.chunkId.slice(-8)}</code>
                        </td>
                        <td>
                          <code>{candidate.score.toFixed(4)}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          ))}
        </div>
      </section>
    </>
  );
}
