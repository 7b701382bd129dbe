/** A failed action, said plainly with what to do (the main process's message and hint). */
export function ErrorBox({ title, error, testId }: { title: string; error: { message: string; hint?: string | null }; testId?: string }) {
  return (
    <div className="trust__ledger trust__ledger--down" role="alert" data-testid={testId}>
      <strong>{title}</strong>
      <span>
        {error.message} {error.hint ?? ''}
      </span>
    </div>
  );
}
