import { useEffect, useRef, useState } from 'react';

/** A write the console is about to make, exactly as it will be sent. */
export interface PlannedWrite {
  readonly method: 'POST';
  readonly path: string;
  readonly body?: unknown;
  /** One sentence saying what it does. */
  readonly summary: string;
}

/**
 * The confirm step of every console write: shows the request exactly as it
 * will be sent, and sends it only on "Confirm". Focus moves to the step when
 * it opens; Cancel closes it and sends nothing. A failure stays
 * shown (role `alert`) with the step, so the operator can retry or cancel.
 */
export function ConfirmStep({
  write,
  send,
  onCancel,
  confirmLabel = 'Confirm',
}: {
  write: PlannedWrite;
  send: () => Promise<void>;
  onCancel: () => void;
  confirmLabel?: string;
}) {
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    confirmRef.current?.focus();
  }, []);
  const confirm = async () => {
    setSending(true);
    setError(undefined);
    try {
      await send();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setSending(false);
    }
  };
  return (
    <fieldset className="confirm">
      <legend>Confirm</legend>
      <p>{write.summary}</p>
      <p className="muted">This request will be sent:</p>
      <pre className="request" data-testid="confirm-request">
        {`${write.method} ${write.path}`}
        {write.body === undefined ? '' : `\n${JSON.stringify(write.body, null, 2)}`}
      </pre>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" ref={confirmRef} className="primary" disabled={sending} onClick={confirm}>
          {sending ? 'Sending…' : confirmLabel}
        </button>
        <button type="button" disabled={sending} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </fieldset>
  );
}
