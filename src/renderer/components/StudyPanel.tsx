export function StudyPanel() {
  return (
    <aside className="panel" aria-label="Studies">
      <header className="panel__header">
        <h2>Studies</h2>
      </header>
      <div className="panel__search">
        <input type="search" placeholder="Search patient, ID, modality…" aria-label="Search studies" disabled />
      </div>
      <div className="panel__empty" data-testid="studies-empty">
        <p className="panel__empty-title">No studies yet</p>
        <p>Import DICOM files or a folder to start reading.</p>
      </div>
    </aside>
  );
}
