import { useEffect, useRef, useState } from 'react';

/**
 * A destructive action behind a confirm step: the first button asks
 * (`question`), and only "Confirm" runs `action`; Cancel or Escape goes
 * back. The outcome or the error is announced.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel = 'Confirm',
  action,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  action: () => Promise<unknown>;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirmRef = useRef<HTMLButtonElement>(null);
  const askRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);

  const cancel = () => {
    setAsking(false);
    setTimeout(() => askRef.current?.focus(), 0);
  };
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      setAsking(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  if (!asking) {
    return (
      <span className="confirm">
        <button type="button" className="danger" ref={askRef} onClick={() => setAsking(true)}>
          {label}
        </button>
        {error && (
          <span role="alert" className="error">
            {' '}
            {error}
          </span>
        )}
      </span>
    );
  }
  return (
    <fieldset className="confirm asking" onKeyDown={(e) => e.key === 'Escape' && cancel()}>
      <legend className="confirm-question">{question}</legend>
      <button type="button" className="danger" ref={confirmRef} disabled={busy} onClick={run}>
        {busy ? 'Working…' : confirmLabel}
      </button>
      <button type="button" onClick={cancel} disabled={busy}>
        Cancel
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </fieldset>
  );
}
