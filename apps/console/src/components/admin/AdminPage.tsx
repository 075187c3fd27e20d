import { useRef, useState, type KeyboardEvent } from 'react';
import { useCan } from '../../hooks/use-me';
import { ApiKeysPanel } from './ApiKeysPanel';
import { AuditPanel } from './AuditPanel';
import { GroupsPanel } from './GroupsPanel';
import { UsersPanel } from './UsersPanel';

type Tab = 'users' | 'groups' | 'api-keys' | 'audit';

export function AdminPage() {
  const canUsers = useCan('users:read');
  const canGroups = useCan('groups:read');
  const canAudit = useCan('audit:read');
  const tabs: ReadonlyArray<{ id: Tab; label: string }> = [
    ...(canUsers ? [{ id: 'users' as const, label: 'Users' }] : []),
    ...(canGroups ? [{ id: 'groups' as const, label: 'Groups' }] : []),
    { id: 'api-keys', label: 'API keys' },
    ...(canAudit ? [{ id: 'audit' as const, label: 'Audit log' }] : []),
  ];
  const [selected, setSelected] = useState<Tab | null>(null);
  const active = tabs.find((tab) => tab.id === selected) ?? tabs[0]!;
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>());

  // Arrow keys move between tabs (WAI-ARIA tabs pattern); Tab moves into the panel.
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = tabs.findIndex((tab) => tab.id === active.id);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length]!;
    setSelected(next.id);
    tabRefs.current.get(next.id)?.focus();
  }

  return (
    <>
      <h1 tabIndex={-1}>Admin</h1>
      <div className="tabs" role="tablist" aria-label="Admin areas" onKeyDown={onKeyDown}>
        {tabs.map((tab) => (
          <button
            key={tab.id}
            ref={(element) => {
              if (element) tabRefs.current.set(tab.id, element);
            }}
            type="button"
            role="tab"
            id={`tab-${tab.id}`}
            aria-selected={tab.id === active.id}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === active.id ? 0 : -1}
            className="tabs__tab"
            onClick={() => setSelected(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${active.id}`} aria-labelledby={`tab-${active.id}`} className="tabpanel">
        {active.id === 'users' && <UsersPanel />}
        {active.id === 'groups' && <GroupsPanel />}
        {active.id === 'api-keys' && <ApiKeysPanel />}
        {active.id === 'audit' && <AuditPanel />}
      </div>
    </>
  );
}
