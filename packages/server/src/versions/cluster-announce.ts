import { type AppVersionConfig, checkAppVersionConfig } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { NodeBus } from '../cluster/node-bus.js';

/**
 * Node bus channel carrying app version announces between nodes (body
 * `{ node, config }`). `$` is not allowed in client channel names, so no
 * client can subscribe or publish.
 */
export const APP_ANNOUNCE_CHANNEL = '$syncline:app-version';

/** Sends an announce to the other nodes (failures are logged: each node keeps its own settings). */
export async function publishAnnounce(bus: NodeBus, config: AppVersionConfig, logger: Logger): Promise<void> {
  try {
    await bus.send(APP_ANNOUNCE_CHANNEL, { config });
  } catch (err) {
    logger.warn({ err }, 'app version announce could not reach the other nodes');
  }
}

/** Applies announces from other nodes. */
export function listenForAnnounces(bus: NodeBus, apply: (config: AppVersionConfig) => void): void {
  bus.listen(APP_ANNOUNCE_CHANNEL, (body) => {
    const config = body.config as AppVersionConfig | undefined;
    if (!config) throw new TypeError('announce without config');
    checkAppVersionConfig(config);
    apply(config);
  });
}
