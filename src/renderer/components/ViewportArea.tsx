export function ViewportArea() {
  return (
    <main className="viewport-area" aria-label="Viewport">
      <div className="viewport viewport--empty" data-testid="viewport">
        <div className="viewport__hint">
          <p className="viewport__hint-title">No series open</p>
          <p>Select a series in the study list to start reading.</p>
        </div>
      </div>
    </main>
  );
}
