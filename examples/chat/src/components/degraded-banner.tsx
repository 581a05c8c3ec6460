import { useConnectionState, useDegraded } from '@syncline/react';
import type { ReactNode } from 'react';

/** What each lost backend means to a chat user. */
const TEXT = {
  broker: 'Live updates are delayed: the server lost its message broker; retrying…',
  docs: 'Saving is delayed: the server lost its document storage; your changes are kept and will be sent…',
} as const;

/**
 * Shown while the server this client is connected to reports a lost backend
 * (`client.degraded`): messages may arrive late and the SDK retries what the
 * server refused. Nothing while disconnected (the connection banner speaks
 * then) or when the server is healthy.
 */
export function DegradedBanner(): ReactNode {
  const status = useDegraded();
  const state = useConnectionState();
  if (!status.degraded || state !== 'connected') return null;
  return (
    <div
      className="banner banner-reconnecting"
      role="status"
      data-testid="degraded-banner"
      data-reason={status.reason ?? ''}
    >
      <span className="banner-dot" /> {TEXT[status.reason ?? 'broker']}
    </div>
  );
}
