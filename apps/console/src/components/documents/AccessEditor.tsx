import { useId, useState, type FormEvent } from 'react';
import { useAccess, useResetDocumentAccess, useSaveAccess, type AccessTarget, type AccessView } from '../../hooks/use-access';
import { useGroups, useUsers } from '../../hooks/use-identity';
import { plural } from '../../format';
import { MutationError, QueryView } from '../QueryState';

interface Props {
  target: AccessTarget;
  id: string;
  /** Shown in the heading, e.g. the collection's or document's name. */
  name: string;
}

/** Who may read: everyone in the workspace, and/or chosen users and groups. */
export function AccessEditor({ target, id, name }: Props) {
  const access = useAccess(target, id);
  return (
    <QueryView query={access} what="access">
      {(current) => <AccessForm key={JSON.stringify(current)} target={target} id={id} name={name} current={current} />}
    </QueryView>
  );
}

function AccessForm({ target, id, name, current }: Props & { current: AccessView }) {
  const users = useUsers();
  const groups = useGroups();
  const save = useSaveAccess(target, id);
  const reset = useResetDocumentAccess(id);
  const [everyone, setEveryone] = useState(current.everyone);
  const [userIds, setUserIds] = useState(new Set(current.users));
  const [groupIds, setGroupIds] = useState(new Set(current.groups));
  const formId = useId();

  function toggle(set: Set<string>, value: string, on: boolean): Set<string> {
    const next = new Set(set);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ everyone, users: [...userIds], groups: [...groupIds] });
  }

  const nobody = !everyone && userIds.size === 0 && groupIds.size === 0;

  return (
    <form className="access" onSubmit={onSubmit} aria-labelledby={`${formId}-title`}>
      <h3 id={`${formId}-title`}>Who can read {name}</h3>
      {target === 'document' && (
        <p className="muted small">
          {current.inherited
            ? 'This document follows its collection’s access. Saving here gives it its own.'
            : 'This document has its own access, ignoring its collection’s.'}
        </p>
      )}
      <label className="check">
        <input type="checkbox" checked={everyone} onChange={(event) => setEveryone(event.currentTarget.checked)} />
        Everyone in the workspace
      </label>
      <fieldset>
        <legend>Groups</legend>
        <QueryView query={groups} what="groups">
          {(page) =>
            page.items.length === 0 ? (
              <p className="muted small">No groups yet.</p>
            ) : (
              page.items.map((group) => (
                <label key={group.id} className="check">
                  <input
                    type="checkbox"
                    checked={groupIds.has(group.id)}
                    onChange={(event) => setGroupIds(toggle(groupIds, group.id, event.currentTarget.checked))}
                  />
                  <span className="check__text">
                    {group.name} <span className="muted small">({plural(group.memberCount, 'member')})</span>
                  </span>
                </label>
              ))
            )
          }
        </QueryView>
      </fieldset>
      <fieldset>
        <legend>People</legend>
        <QueryView query={users} what="people">
          {(page) =>
            page.items.map((user) => (
              <label key={user.id} className="check">
                <input
                  type="checkbox"
                  checked={userIds.has(user.id)}
                  onChange={(event) => setUserIds(toggle(userIds, user.id, event.currentTarget.checked))}
                />
                <span className="check__text">
                  {user.displayName} <span className="muted small block">{user.email}</span>
                </span>
              </label>
            ))
          }
        </QueryView>
      </fieldset>
      {nobody && <p className="alert alert--warning">Nobody but administrators will see this in listings, and nobody will find it in search.</p>}
      <MutationError error={save.error ?? reset.error} />
      <div className="actions">
        <button type="submit" className="button button--primary" disabled={save.isPending}>
          Save access
        </button>
        {target === 'document' && !current.inherited && (
          <button type="button" className="button button--secondary" disabled={reset.isPending} onClick={() => reset.mutate()}>
            Use the collection’s access
          </button>
        )}
        {save.isSuccess && !save.isPending && (
          <span role="status" className="muted small">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}
