import { type FormEvent, useId, useState } from 'react';
import { sendJson } from './api';
import { ConfirmStep, type PlannedWrite } from './confirm-step';
import { parseJsonText } from './json-text';

/** Answer of `POST /v1/users/{user}/messages`. */
interface SentReply {
  readonly delivered: number;
  readonly partial?: boolean;
}

/**
 * "Send a message" to every connection of a user, on every node: JSON data
 * (checked as typed), then a confirm step showing the request, sent to
 * `POST /v1/users/{user}/messages` with the session's CSRF header. The
 * client gets it as a `userMessage` event; nothing is stored.
 */
export function UserMessage({ user, csrf, path }: { user: string; csrf: string; path: string }) {
  const id = useId();
  const [text, setText] = useState('');
  const [touched, setTouched] = useState(false);
  const [planned, setPlanned] = useState<PlannedWrite | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const parsed = parseJsonText(text);
  const showProblem = touched && !parsed.ok;

  const review = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    setDone(undefined);
    if (!parsed.ok) return;
    setPlanned({
      method: 'POST',
      path: `${path}/messages`,
      body: { data: parsed.value },
      summary: `Send this message to every connection of ${user} (not stored: a user offline now does not get it).`,
    });
  };
  const send = async () => {
    if (!planned) return;
    const r = await sendJson<SentReply>(planned.path, 'POST', csrf, planned.body);
    setPlanned(undefined);
    setDone(
      `Sent: delivered to ${r.delivered} connection${r.delivered === 1 ? '' : 's'}.` +
        (r.partial ? ' Some nodes did not answer in time; the count may be short.' : ''),
    );
  };

  return (
    <section aria-labelledby={`${id}-title`} className="panel">
      <h2 id={`${id}-title`}>Send a message</h2>
      <form className="user-message" onSubmit={review} noValidate>
        <label htmlFor={`${id}-data`}>Data (JSON)</label>
        <textarea
          id={`${id}-data`}
          value={text}
          rows={3}
          spellCheck={false}
          placeholder='{"text":"Your session will end in 5 minutes."}'
          disabled={planned !== undefined}
          aria-invalid={showProblem}
          aria-describedby={showProblem ? `${id}-error` : undefined}
          onChange={(e) => {
            setText(e.target.value);
            setTouched(true);
            setDone(undefined);
          }}
        />
        {showProblem && (
          <p id={`${id}-error`} role="alert" className="error" data-testid="message-error">
            {parsed.error}
          </p>
        )}
        {planned ? (
          <ConfirmStep write={planned} send={send} onCancel={() => setPlanned(undefined)} confirmLabel="Send" />
        ) : (
          <button type="submit" disabled={touched && !parsed.ok}>
            Review…
          </button>
        )}
        {done && (
          <p role="status" className="ok-text" data-testid="message-outcome">
            {done}
          </p>
        )}
      </form>
    </section>
  );
}
