import { useUpdate } from '@syncline/react';
import type { CSSProperties, ReactNode } from 'react';

const overlay: CSSProperties = {
  position: 'fixed',
  inset: 0,
  zIndex: 40,
  display: 'grid',
  placeItems: 'center',
  background: 'rgb(15 23 42 / 55%)',
};
const dialog: CSSProperties = {
  maxWidth: 380,
  margin: 16,
  padding: '20px 22px',
  borderRadius: 14,
  background: '#fff',
  color: '#0f172a',
  boxShadow: '0 12px 40px rgb(15 23 42 / 30%)',
};
const button: CSSProperties = {
  border: 0,
  borderRadius: 8,
  padding: '6px 12px',
  fontWeight: 600,
  cursor: 'pointer',
  background: '#2563eb',
  color: '#fff',
};

/**
 * Tells the user about a new version of the app. `available`: a strip at
 * the top (under any connection banner) with a reload button; the chat
 * keeps working. `required`: a blocking dialog (the server refuses messages
 * from this version). When a
 * reload already failed to bring the new version (the reload-loop guard
 * answers `reload: false`), it says so rather than pushing the same reload.
 */
export function UpdateBanner(): ReactNode {
  const update = useUpdate();
  if (update.status === 'none') return null;
  const reload = (): void => window.location.reload();
  const text = update.message ?? `Version ${update.version ?? ''} is out.`;
  if (update.status === 'available') {
    return (
      <div className="banner banner-update" role="status" data-testid="update-banner" data-state="available">
        <span>New version available — {text}</span>
        <button type="button" className="banner-button" onClick={reload}>
          Reload
        </button>
      </div>
    );
  }
  return (
    <div style={overlay} role="alertdialog" aria-modal="true" data-testid="update-banner" data-state="required">
      <div style={dialog}>
        <h2 style={{ margin: '0 0 8px', fontSize: 18 }}>Update required</h2>
        <p style={{ margin: '0 0 8px' }}>{text}</p>
        <p style={{ margin: '0 0 16px', color: '#475569', fontSize: 14 }}>
          {update.reload
            ? 'This version can still show messages but can no longer send them. Reload to continue.'
            : 'Reloading did not bring the new version yet; it may still be rolling out. Try again in a few minutes.'}
        </p>
        <button type="button" style={button} onClick={reload}>
          Reload
        </button>
      </div>
    </div>
  );
}
