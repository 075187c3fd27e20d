import { formText } from '../../forms';
import { useId, useState, type FormEvent } from 'react';
import { formatDate } from '../../format';
import { useAuditEvents, useUsers, type AuditFilters } from '../../hooks/use-identity';
import { useCan } from '../../hooks/use-me';
import { EmptyState, QueryView } from '../QueryState';

export function AuditPanel() {
  const [filters, setFilters] = useState<AuditFilters>({});
  // Cursors of the pages before the current one, for "Newer".
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const events = useAuditEvents(filters, cursor);
  // People are shown by email where the caller may list them; otherwise by id.
  const users = useUsers(useCan('users:read'));
  const emails = new Map(users.data?.items.map((user) => [user.id, user.email]));
  const actorName = (actorId: string) => emails.get(actorId) ?? actorId;
  const id = useId();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => formText(data, name).trim();
    const outcome = text('outcome');
    const from = text('from');
    const to = text('to');
    setCursors([]);
    setFilters({
      ...(text('action') ? { action: text('action') } : {}),
      ...(outcome === 'success' || outcome === 'failure' ? { outcome } : {}),
      ...(text('actorId') ? { actorId: text('actorId') } : {}),
      ...(from ? { from: new Date(`${from}T00:00:00`).toISOString() } : {}),
      ...(to ? { to: new Date(`${to}T23:59:59`).toISOString() } : {}),
    });
  }

  return (
    <>
      <form className="card form-grid" onSubmit={onSubmit} aria-label="Audit log filters">
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <input id={`${id}-action`} name="action" placeholder="e.g. auth.login" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-outcome`}>Outcome</label>
          <select id={`${id}-outcome`} name="outcome" defaultValue="">
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-actor`}>Actor ID</label>
          <input id={`${id}-actor`} name="actorId" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input id={`${id}-from`} name="from" type="date" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input id={`${id}-to`} name="to" type="date" />
        </div>
        <div className="form-grid__actions">
          <button type="submit" className="button button--primary">
            Apply filters
          </button>
        </div>
      </form>
      <section className="card" aria-labelledby="audit-title" aria-busy={events.isFetching}>
        <h2 id="audit-title">Audit log</h2>
        <QueryView query={events} what="audit events">
          {(page) => (
            <>
              {page.items.length === 0 ? (
                <EmptyState>
                  <p>No events match these filters.</p>
                </EmptyState>
              ) : (
                <div className="table-wrap">
                  <table className="table table--stack">
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">Action</th>
                        <th scope="col">Outcome</th>
                        <th scope="col">Actor</th>
                        <th scope="col">Target</th>
                        <th scope="col">IP</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.items.map((event) => (
                        <tr key={event.id}>
                          <td data-label="When">{formatDate(event.createdAt)}</td>
                          <td data-label="Action" className="cell-action">
                            <code>{event.action}</code>
                          </td>
                          <td data-label="Outcome">
                            <span className={`badge badge--${event.outcome}`}>{event.outcome}</span>
                          </td>
                          <td data-label="Actor" className="small">
                            {event.actor.type}
                            {event.actor.id && <span className="block">{actorName(event.actor.id)}</span>}
                          </td>
                          <td data-label="Target" className="small">
                            {event.target ? (
                              <>
                                {event.target.type} <code className="block">{event.target.id}</code>
                              </>
                            ) : (
                              '—'
                            )}
                          </td>
                          <td data-label="IP" className="small">{event.ip ?? '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <div className="actions">
                <button type="button" className="button button--secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
                  Newer
                </button>
                <button
                  type="button"
                  className="button button--secondary"
                  disabled={!page.nextCursor}
                  onClick={() => page.nextCursor && setCursors([...cursors, page.nextCursor])}
                >
                  Older
                </button>
              </div>
            </>
          )}
        </QueryView>
      </section>
    </>
  );
}
