import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import { getJson, sendJson } from './api';
import { ClientVersions } from './client-versions';
import { ConfirmStep, type PlannedWrite } from './confirm-step';
import type { AppConfig } from './console-requests';

/** A dotted numeric version: the server's rule (`isAppVersion` of the protocol package). */
const VERSION_RE = /^v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

interface AnnounceResult {
  readonly notified: number;
  readonly sessions: { readonly none: number; readonly available: number; readonly required: number };
}

function Field({
  label,
  value,
  onChange,
  hint,
  required,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  hint: string;
  required?: boolean;
}) {
  const id = useId();
  const bad = value !== '' && !VERSION_RE.test(value);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        required={required}
        maxLength={100}
        placeholder="2.4.0"
        aria-invalid={bad}
        aria-describedby={`${id}-hint`}
        onChange={(e) => onChange(e.target.value.trim())}
      />
      <p id={`${id}-hint`} className={bad ? 'error' : 'muted'}>
        {bad ? 'Expected a dotted numeric version like 2.4.0.' : hint}
      </p>
    </div>
  );
}

/**
 * The App versions page: the settings in force, the connected clients of
 * every node by app version with their verdicts, and an announce of new
 * settings with a confirm step.
 */
export function VersionsPage({ csrf }: { csrf: string }) {
  const [app, setApp] = useState<AppConfig | null | undefined>();
  const [version, setVersion] = useState('');
  const [recommended, setRecommended] = useState('');
  const [min, setMin] = useState('');
  const [message, setMessage] = useState('');
  const [planned, setPlanned] = useState<PlannedWrite | undefined>();
  const [result, setResult] = useState<AnnounceResult | undefined>();
  const [generation, setGeneration] = useState(0);
  const load = useCallback(() => getJson<{ app: AppConfig | null }>('/v1/app').then((r) => setApp(r.app)), []);
  useEffect(() => {
    void load();
  }, [load]);
  const valid = [version, recommended, min].every((v) => v === '' || VERSION_RE.test(v)) && version !== '';

  const review = (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    const body: Record<string, string> = { version };
    if (recommended) body.recommendedClientVersion = recommended;
    if (min) body.minClientVersion = min;
    if (message.trim()) body.message = message.trim();
    const what = [
      recommended && `clients below ${recommended} are told an update is available`,
      min && `clients below ${min} must update (they can no longer publish or mutate)`,
    ].filter(Boolean);
    setPlanned({
      method: 'POST',
      path: '/v1/app/announce',
      body,
      summary: `Announce app version ${version} to every node${what.length ? `: ${what.join('; ')}` : ''}.`,
    });
  };
  const send = async () => {
    if (!planned) return;
    setResult(await sendJson<AnnounceResult>(planned.path, 'POST', csrf, planned.body));
    setPlanned(undefined);
    setGeneration((g) => g + 1);
    await load();
  };

  return (
    <section aria-labelledby="page-title" className="page">
      <header className="page-head">
        <h1 id="page-title">App versions</h1>
      </header>
      <h2>In force</h2>
      {app === undefined ? (
        <p className="muted">Loading…</p>
      ) : app === null ? (
        <p data-testid="app-current">No app version is set: every client is current.</p>
      ) : (
        <dl className="stats" data-testid="app-current">
          <div className="stat">
            <dt>App version</dt>
            <dd>{app.version}</dd>
          </div>
          <div className="stat">
            <dt>Update available below</dt>
            <dd>{app.recommendedClientVersion ?? '–'}</dd>
          </div>
          <div className="stat">
            <dt>Update required below</dt>
            <dd>{app.minClientVersion ?? '–'}</dd>
          </div>
          {app.message && (
            <div className="stat wide">
              <dt>Message</dt>
              <dd>{app.message}</dd>
            </div>
          )}
        </dl>
      )}
      <ClientVersions generation={generation} />
      <h2>Announce a new version</h2>
      <form className="announce" onSubmit={review} aria-label="Announce a new version">
        <fieldset disabled={planned !== undefined}>
          <Field
            label="App version"
            value={version}
            onChange={setVersion}
            hint="The version of your app now."
            required
          />
          <Field
            label="Update available below"
            value={recommended}
            onChange={setRecommended}
            hint="Optional: clients below it are told an update is available."
          />
          <Field
            label="Update required below"
            value={min}
            onChange={setMin}
            hint="Optional: clients below it must update; they can no longer publish or mutate."
          />
          <div className="field">
            <label htmlFor="announce-message">Message (optional)</label>
            <input
              id="announce-message"
              value={message}
              maxLength={1000}
              onChange={(e) => setMessage(e.target.value)}
            />
          </div>
        </fieldset>
        {planned ? (
          <ConfirmStep write={planned} send={send} onCancel={() => setPlanned(undefined)} confirmLabel="Announce" />
        ) : (
          <button type="submit" disabled={!valid}>
            Review…
          </button>
        )}
      </form>
      {result && (
        <p role="status" className="ok-text" data-testid="announce-result">
          Announced. {result.notified} connected client{result.notified === 1 ? '' : 's'} on this node told; now{' '}
          {result.sessions.available} with an update available, {result.sessions.required} required,{' '}
          {result.sessions.none} current.
        </p>
      )}
    </section>
  );
}
