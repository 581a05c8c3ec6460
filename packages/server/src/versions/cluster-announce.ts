import { type AppVersionConfig, checkAppVersionConfig } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';

/**
 * Broker channel carrying app version announces between nodes. `$` is not
 * allowed in client channel names, so no client can subscribe or publish.
 */
export const APP_ANNOUNCE_CHANNEL = '$syncline:app-version';

const NO_HISTORY = { size: 0, ttlMs: 60_000 } as const;

interface AnnounceData {
  readonly node: string;
  readonly config: AppVersionConfig;
}

/** Sends an announce to the other nodes (failures are logged: each node keeps its own settings). */
export async function publishAnnounce(
  broker: Broker,
  nodeId: string,
  config: AppVersionConfig,
  logger: Logger,
): Promise<void> {
  const data: AnnounceData = { node: nodeId, config };
  try {
    await broker.publish({ channel: APP_ANNOUNCE_CHANNEL, data, history: NO_HISTORY });
  } catch (err) {
    logger.warn({ err }, 'app version announce could not reach the other nodes');
  }
}

/** Applies announces from other nodes. */
export function listenForAnnounces(
  broker: Broker,
  nodeId: string,
  apply: (config: AppVersionConfig) => void,
  logger: Logger,
): void {
  broker
    .subscribe(APP_ANNOUNCE_CHANNEL, (pub) => {
      const d = pub.data as Partial<AnnounceData> | null;
      if (!d || typeof d !== 'object' || d.node === nodeId || !d.config) return;
      try {
        checkAppVersionConfig(d.config);
        apply(d.config);
      } catch (err) {
        logger.warn({ err }, 'ignored a malformed app version announce');
      }
    })
    .catch((err: unknown) => logger.warn({ err }, 'cannot listen for app version announces'));
}
