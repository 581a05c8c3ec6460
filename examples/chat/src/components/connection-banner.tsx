import { useConnectionStatus } from '@syncline/react';
import { type ReactNode, useEffect, useState } from 'react';

const BACK_ONLINE_MS = 2_500;

/**
 * Tells the user what the connection is doing: offline (the browser has no
 * network), reconnecting (the server is unreachable), or back online for a
 * moment after a reconnect. Nothing while connected.
 */
export function ConnectionBanner(): ReactNode {
  const status = useConnectionStatus();
  const [, tick] = useState(0);
  const reconnected = status.state === 'connected' && status.connects > 1;
  const fresh = Date.now() - status.since < BACK_ONLINE_MS;
  useEffect(() => {
    if (!reconnected || !fresh) return;
    const t = setTimeout(() => tick((n) => n + 1), BACK_ONLINE_MS - (Date.now() - status.since) + 20);
    return () => clearTimeout(t);
  }, [reconnected, fresh, status.since]);

  if (status.state === 'connected') {
    if (!reconnected || !fresh) return null;
    return (
      <div className="banner banner-online" role="status" data-testid="banner" data-state="online">
        <span className="banner-dot" /> Back online. Everything is up to date.
      </div>
    );
  }
  if (status.state === 'disconnected' && status.change?.reason === 'offline') {
    return (
      <div className="banner banner-offline" role="status" data-testid="banner" data-state="offline">
        <span className="banner-dot" /> You are offline. New messages will be sent when the connection is back.
      </div>
    );
  }
  if (!status.everConnected) {
    return status.state === 'connecting' ? null : (
      <div className="banner banner-reconnecting" role="status" data-testid="banner" data-state="connecting">
        <span className="banner-dot" /> Connecting…
      </div>
    );
  }
  const retry = status.change?.retryInMs;
  return (
    <div className="banner banner-reconnecting" role="status" data-testid="banner" data-state="reconnecting">
      <span className="banner-dot" /> Connection lost. Reconnecting
      {status.state === 'disconnected' && retry !== undefined && retry >= 1_000
        ? ` in ${Math.round(retry / 1000)} s`
        : '…'}
    </div>
  );
}
