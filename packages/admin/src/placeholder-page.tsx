/** A page of a later slice of the console, clearly marked as not built yet. */
export function PlaceholderPage({ title, what }: { title: string; what: string }) {
  return (
    <section aria-labelledby="page-title" className="page">
      <header className="page-head">
        <h1 id="page-title">{title}</h1>
        <span className="badge warn">Coming next</span>
      </header>
      <p className="placeholder">
        Not built yet. {what} The HTTP API (<code>/v1</code>) already accepts this console's session.
      </p>
    </section>
  );
}
