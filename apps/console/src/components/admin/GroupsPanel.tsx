import { formText } from '../../forms';
import { useId, useState, type FormEvent } from 'react';
import { useCreateGroup, useDeleteGroup, useGroupMembers, useGroupMembership, useGroups, useUsers, type Group } from '../../hooks/use-identity';
import { useCan } from '../../hooks/use-me';
import { plural } from '../../format';
import { EmptyState, MutationError, QueryView } from '../QueryState';

export function GroupsPanel() {
  const groups = useGroups();
  const remove = useDeleteGroup();
  const canManage = useCan('groups:manage');
  const [openId, setOpenId] = useState<string | null>(null);

  return (
    <>
      {canManage && <CreateGroupForm />}
      <section className="card" aria-labelledby="groups-title">
        <h2 id="groups-title">Groups</h2>
        <MutationError error={remove.error} />
        <QueryView query={groups} what="groups">
          {(page) =>
            page.items.length === 0 ? (
              <EmptyState>
                <p>No groups yet. Groups let you grant documents to teams at once.</p>
              </EmptyState>
            ) : (
              <ul className="group-list">
                {page.items.map((group) => (
                  <li key={group.id} className="group-list__item">
                    <div className="section-head">
                      <p className="section-head__title">
                        <strong>{group.name}</strong> <span className="muted small">{plural(group.memberCount, 'member')}</span>
                        {group.description && <span className="muted small block">{group.description}</span>}
                      </p>
                      <button
                        type="button"
                        className="button button--secondary button--small"
                        aria-expanded={openId === group.id}
                        onClick={() => setOpenId(openId === group.id ? null : group.id)}
                      >
                        Members<span className="visually-hidden"> of {group.name}</span>
                      </button>
                      {canManage && (
                        <button
                          type="button"
                          className="button button--danger button--small"
                          disabled={remove.isPending}
                          onClick={() => {
                            if (window.confirm(`Delete the group ${group.name}?`)) remove.mutate(group.id);
                          }}
                        >
                          Delete<span className="visually-hidden"> {group.name}</span>
                        </button>
                      )}
                    </div>
                    {openId === group.id && <GroupMembers group={group} canManage={canManage} />}
                  </li>
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>
    </>
  );
}

function GroupMembers({ group, canManage }: { group: Group; canManage: boolean }) {
  const members = useGroupMembers(group.id);
  const users = useUsers();
  const membership = useGroupMembership(group.id);

  return (
    <QueryView query={members} what="members">
      {(page) => {
        const memberIds = new Set(page.items.map((user) => user.id));
        if (!canManage) {
          return page.items.length === 0 ? (
            <p className="muted small">No members.</p>
          ) : (
            <ul className="plain-list">
              {page.items.map((user) => (
                <li key={user.id}>{user.displayName}</li>
              ))}
            </ul>
          );
        }
        return (
          <fieldset disabled={membership.isPending}>
            <legend>Members of {group.name}</legend>
            <MutationError error={membership.error} />
            <QueryView query={users} what="people">
              {(all) =>
                all.items.map((user) => (
                  <label key={user.id} className="check">
                    <input
                      type="checkbox"
                      checked={memberIds.has(user.id)}
                      onChange={(event) =>
                        membership.mutate(
                          { userId: user.id, member: event.currentTarget.checked },
                          { onSuccess: () => void members.refetch() },
                        )
                      }
                    />
                    <span className="check__text">
                      {user.displayName} <span className="muted small block">{user.email}</span>
                    </span>
                  </label>
                ))
              }
            </QueryView>
          </fieldset>
        );
      }}
    </QueryView>
  );
}

function CreateGroupForm() {
  const create = useCreateGroup();
  const id = useId();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const description = formText(data, 'description').trim();
    create.mutate(
      { name: formText(data, 'name').trim(), ...(description ? { description } : {}) },
      { onSuccess: () => form.reset() },
    );
  }

  return (
    <form className="card form-grid" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="form-grid__title">New group</h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} name="name" required maxLength={100} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description</label>
        <input id={`${id}-description`} name="description" maxLength={1000} />
      </div>
      <div className="form-grid__actions">
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          Create group
        </button>
        <MutationError error={create.error} />
      </div>
    </form>
  );
}
