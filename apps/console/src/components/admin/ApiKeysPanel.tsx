import { formText } from '../../forms';
import { useId, useState, type FormEvent } from 'react';
import { formatDate } from '../../format';
import { SCOPES, useApiKeys, useCreateApiKey, useRevokeApiKey } from '../../hooks/use-identity';
import { useMe } from '../../hooks/use-me';
import { EmptyState, MutationError, QueryView } from '../QueryState';

export function ApiKeysPanel() {
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();

  return (
    <>
      <CreateApiKeyForm />
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        <MutationError error={revoke.error} />
        <QueryView query={keys} what="API keys">
          {(page) =>
            page.items.length === 0 ? (
              <EmptyState>
                <p>No API keys yet.</p>
              </EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table table--stack">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Scopes</th>
                      <th scope="col">Created</th>
                      <th scope="col">Last used</th>
                      <th scope="col">Status</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((key) => {
                      const expired = key.expiresAt !== null && new Date(key.expiresAt) < new Date();
                      const status = key.revokedAt ? 'revoked' : expired ? 'expired' : 'active';
                      return (
                        <tr key={key.id} data-key={key.name} data-status={status}>
                          <th scope="row" className="cell-name">
                            {key.name}
                            <code className="small block">qk_{key.prefix}_…</code>
                          </th>
                          <td data-label="Scopes" className="small">{key.scopes.join(', ')}</td>
                          <td data-label="Created">{formatDate(key.createdAt)}</td>
                          <td data-label="Last used">{formatDate(key.lastUsedAt, 'never')}</td>
                          <td data-label="Status">
                            <span className={`badge badge--${status}`}>{status}</span>
                            {key.expiresAt && !key.revokedAt && <span className="muted small block">until {formatDate(key.expiresAt)}</span>}
                          </td>
                          <td className="cell-actions">
                            <div className="cell-actions__buttons">
                              {status === 'active' && (
                                <button
                                  type="button"
                                  className="button button--danger button--small"
                                  disabled={revoke.isPending}
                                  onClick={() => {
                                    if (window.confirm(`Revoke ${key.name}? Anything using it stops working at once.`)) revoke.mutate(key.id);
                                  }}
                                >
                                  Revoke<span className="visually-hidden"> {key.name}</span>
                                </button>
                              )}
                            </div>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryView>
      </section>
    </>
  );
}

function CreateApiKeyForm() {
  const create = useCreateApiKey();
  const me = useMe();
  const id = useId();
  const [copied, setCopied] = useState(false);
  // A key can only carry permissions its creator has.
  const allowed = SCOPES.filter((scope) => me.data?.permissions.includes(scope));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const expires = formText(data, 'expiresAt');
    setCopied(false);
    create.mutate(
      {
        name: formText(data, 'name').trim(),
        scopes: allowed.filter((scope) => data.get(`scope:${scope}`) === 'on'),
        ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
      },
      { onSuccess: () => form.reset() },
    );
  }

  const token = create.data?.token;

  return (
    <form className="card form-grid" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="form-grid__title">New API key</h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} name="name" required maxLength={100} placeholder="e.g. CI pipeline" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-expires`}>Expires (optional)</label>
        <input id={`${id}-expires`} name="expiresAt" type="date" />
      </div>
      <fieldset className="form-grid__wide scopes">
        <legend>Scopes</legend>
        {allowed.map((scope) => (
          <label key={scope} className="check">
            <input type="checkbox" name={`scope:${scope}`} defaultChecked={scope === 'search'} />
            <code>{scope}</code>
          </label>
        ))}
      </fieldset>
      <div className="form-grid__actions">
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          Create key
        </button>
        <MutationError error={create.error} />
      </div>
      {token && (
        <div className="secret form-grid__wide" role="status">
          <p>
            <strong>Copy this key now: it is shown only once.</strong>
          </p>
          <code className="secret__value" aria-label="Secret of the new key">
            {token}
          </code>
          <button
            type="button"
            className="button button--secondary button--small"
            onClick={() => void navigator.clipboard.writeText(token).then(() => setCopied(true))}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
    </form>
  );
}
