import { type FormEvent, useId, useState } from 'react';
import { sendJson } from './api';
import { ConfirmStep, type PlannedWrite } from './confirm-step';
import { CONSOLE_USER_ID, docApiPath } from './console-requests';

/** The JSON text as a value, or the parser's complaint. */
function parseArgs(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `Arguments are not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * "Run mutator" for support cases: a mutator of the document's namespace
 * and its JSON arguments (checked as typed), then a confirm step showing
 * the request, sent to `POST /v1/docs/{name}/mutate` with the console's
 * user id.
 */
export function RunMutator({ doc, mutators, csrf }: { doc: string; mutators: readonly string[]; csrf: string }) {
  const id = useId();
  const [name, setName] = useState(mutators[0] ?? '');
  const [text, setText] = useState('{}');
  const [planned, setPlanned] = useState<PlannedWrite | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const parsed = parseArgs(text);

  const review = (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    if (!parsed.ok || name.trim() === '') return;
    const body = {
      name: name.trim(),
      ...(parsed.value === undefined ? {} : { args: parsed.value }),
      userId: CONSOLE_USER_ID,
    };
    setPlanned({
      method: 'POST',
      path: `${docApiPath(doc)}/mutate`,
      body,
      summary: `Run the mutator "${body.name}" on ${doc}, as the user "${CONSOLE_USER_ID}".`,
    });
  };
  const send = async () => {
    if (!planned) return;
    const r = await sendJson<{ version: number; duplicate?: boolean }>(planned.path, 'POST', csrf, planned.body);
    setPlanned(undefined);
    setDone(`Applied: the document is at version ${r.version}.`);
  };

  return (
    <form className="mutator-form" onSubmit={review} aria-label="Run a mutator">
      <label htmlFor={`${id}-name`}>Mutator</label>
      {mutators.length > 0 ? (
        <select
          id={`${id}-name`}
          value={name}
          onChange={(e) => setName(e.target.value)}
          disabled={planned !== undefined}
        >
          {mutators.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      ) : (
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
      )}
      <label htmlFor={`${id}-args`}>Arguments (JSON)</label>
      <textarea
        id={`${id}-args`}
        value={text}
        rows={4}
        spellCheck={false}
        disabled={planned !== undefined}
        aria-invalid={!parsed.ok}
        aria-describedby={parsed.ok ? undefined : `${id}-error`}
        onChange={(e) => {
          setText(e.target.value);
          setDone(undefined);
        }}
      />
      {!parsed.ok && (
        <p id={`${id}-error`} className="error" data-testid="args-error">
          {parsed.error}
        </p>
      )}
      {planned ? (
        <ConfirmStep write={planned} send={send} onCancel={() => setPlanned(undefined)} confirmLabel="Run mutator" />
      ) : (
        <button type="submit" disabled={!parsed.ok || name.trim() === ''}>
          Review…
        </button>
      )}
      {done && (
        <p role="status" className="ok-text">
          {done}
        </p>
      )}
    </form>
  );
}
