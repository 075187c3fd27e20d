export function PlaceholderPage({ title }: { title: string }) {
  return (
    <>
      <h1 tabIndex={-1}>{title}</h1>
      <div className="empty-state">
        <p>Coming soon: this area arrives with its API.</p>
      </div>
    </>
  );
}
