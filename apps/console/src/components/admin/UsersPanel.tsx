import { formText } from '../../forms';
import { useId, type FormEvent } from 'react';
import { formatDate } from '../../format';
import { ROLES, useCreateUser, useUpdateUser, useUsers, type Role } from '../../hooks/use-identity';
import { useCan } from '../../hooks/use-me';
import { MutationError, QueryView } from '../QueryState';

export function UsersPanel() {
  const users = useUsers();
  const update = useUpdateUser();
  const canManage = useCan('users:manage');

  return (
    <>
      {canManage && <CreateUserForm />}
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">People</h2>
        <MutationError error={update.error} />
        <QueryView query={users} what="people">
          {(page) => (
            <div className="table-wrap">
              <table className="table table--stack">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last sign-in</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((user) => (
                    <tr key={user.id}>
                      <th scope="row" className="cell-name">
                        {user.displayName}
                        <span className="muted small block">{user.email}</span>
                      </th>
                      <td data-label="Role">
                        {canManage ? (
                          <select
                            aria-label={`Role of ${user.email}`}
                            value={user.role}
                            disabled={update.isPending}
                            onChange={(event) => update.mutate({ id: user.id, role: event.currentTarget.value as Role })}
                          >
                            {ROLES.map((role) => (
                              <option key={role}>{role}</option>
                            ))}
                          </select>
                        ) : (
                          <span className="badge">{user.role}</span>
                        )}
                      </td>
                      <td data-label="Status">
                        {canManage ? (
                          <label className="check">
                            <input
                              type="checkbox"
                              checked={user.status === 'active'}
                              disabled={update.isPending}
                              onChange={(event) =>
                                update.mutate({ id: user.id, status: event.currentTarget.checked ? 'active' : 'disabled' })
                              }
                            />
                            Active<span className="visually-hidden"> ({user.email})</span>
                          </label>
                        ) : (
                          user.status
                        )}
                      </td>
                      <td data-label="Last sign-in">{formatDate(user.lastLoginAt, 'never')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </section>
    </>
  );
}

function CreateUserForm() {
  const create = useCreateUser();
  const id = useId();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const password = formText(data, 'password');
    create.mutate(
      {
        email: formText(data, 'email').trim(),
        displayName: formText(data, 'displayName').trim(),
        role: formText(data, 'role') as Role,
        ...(password ? { password } : {}),
      },
      { onSuccess: () => form.reset() },
    );
  }

  return (
    <form className="card form-grid" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="form-grid__title">Add a person</h2>
      <div className="field">
        <label htmlFor={`${id}-email`}>Email</label>
        <input id={`${id}-email`} name="email" type="email" required />
      </div>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} name="displayName" required maxLength={200} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} name="role" defaultValue="member">
          {ROLES.map((role) => (
            <option key={role}>{role}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-password`}>Initial password</label>
        <input id={`${id}-password`} name="password" type="password" minLength={12} autoComplete="new-password" aria-describedby={`${id}-password-hint`} />
        <p id={`${id}-password-hint`} className="hint">At least 12 characters. Leave empty for single sign-on only.</p>
      </div>
      <div className="form-grid__actions">
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          Add person
        </button>
        <MutationError error={create.error} />
      </div>
    </form>
  );
}
