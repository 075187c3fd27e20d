import type { Session } from '../api/auth';

export function OverviewPage({ session }: { session: Session }) {
  const { user, tenant } = session;
  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <p className="muted">Welcome back, {user.displayName}.</p>
      <section className="card" aria-labelledby="overview-account">
        <h2 id="overview-account">Your account</h2>
        <dl className="details">
          <div>
            <dt>Name</dt>
            <dd>{user.displayName}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{user.email}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>
              <span className="badge">{user.role}</span>
            </dd>
          </div>
          <div>
            <dt>Workspace</dt>
            <dd>
              {tenant.name} <span className="muted">({tenant.slug})</span>
            </dd>
          </div>
        </dl>
      </section>
    </>
  );
}
