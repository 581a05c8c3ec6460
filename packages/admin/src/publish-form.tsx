import { type FormEvent, useId, useState } from 'react';
import { sendJson } from './api';
import { parseJsonText } from './json-text';

/**
 * Publishes JSON to the channel through `POST /v1/publish` (with the
 * session's CSRF header). Text that does not parse is flagged inline and
 * nothing is sent.
 */
export function PublishForm({
  channel,
  csrf,
  onPublished,
}: {
  channel: string;
  csrf: string;
  onPublished: (offset: number) => void;
}) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const fieldId = useId();
  const problemId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setOutcome(undefined);
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      setProblem(parsed.error);
      return;
    }
    setProblem(undefined);
    setBusy(true);
    try {
      const r = await sendJson<{ offset: number }>('/v1/publish', 'POST', csrf, { channel, data: parsed.value });
      setOutcome(`Published at offset ${r.offset}.`);
      onPublished(r.offset);
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="publish-title" className="panel">
      <h2 id="publish-title">Publish</h2>
      <form onSubmit={submit} className="publish" noValidate>
        <label htmlFor={fieldId}>Data (JSON)</label>
        <textarea
          id={fieldId}
          value={text}
          rows={4}
          spellCheck={false}
          placeholder='{"text":"hello"}'
          aria-invalid={problem !== undefined}
          aria-describedby={problem ? problemId : undefined}
          onChange={(e) => {
            setText(e.target.value);
            setProblem(undefined);
          }}
        />
        {problem && (
          <p id={problemId} role="alert" className="error" data-testid="publish-error">
            {problem}
          </p>
        )}
        <div className="form-row">
          <button type="submit" disabled={busy}>
            {busy ? 'Publishing…' : 'Publish'}
          </button>
          <span role="status" data-testid="publish-outcome">
            {outcome}
          </span>
        </div>
      </form>
    </section>
  );
}
