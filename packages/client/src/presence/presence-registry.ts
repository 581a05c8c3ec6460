import type { CommandInput, RequestType, ResultOf, ServerMessage } from '@syncline/protocol';
import { PresenceChannel, type PresenceHost } from './presence-channel.js';

/** What the registry needs from the client (its public API). */
export interface PresenceClient {
  readonly state: string;
  request<K extends RequestType>(command: CommandInput<K>): Promise<ResultOf<K>>;
  addMessageHandler(handler: (message: ServerMessage) => boolean): () => void;
  onConnected(fn: () => void): () => void;
}

/**
 * The presence channels of one client: routes `presence.*` pushes to them
 * and re-syncs them after every (re)connect. One client id per client, stable
 * across reconnects.
 */
export class PresenceRegistry {
  readonly #channels = new Map<string, PresenceChannel>();
  readonly #host: PresenceHost;

  constructor(client: PresenceClient, clientId: string) {
    const channels = this.#channels;
    this.#host = {
      get connected() {
        return client.state === 'connected';
      },
      clientId,
      request: (command) => client.request(command),
      release: (channel) => {
        channels.delete(channel);
      },
    };
    client.addMessageHandler((msg) => this.#onMessage(msg));
    client.onConnected(() => {
      for (const ch of this.#channels.values()) ch.connected();
    });
  }

  /** The presence channel object of `channel` (one per channel). */
  get(channel: string): PresenceChannel {
    let ch = this.#channels.get(channel);
    if (!ch) {
      ch = new PresenceChannel(channel, this.#host);
      this.#channels.set(channel, ch);
    }
    return ch;
  }

  #onMessage(msg: ServerMessage): boolean {
    if (msg.type !== 'presence.state' && msg.type !== 'presence.diff' && msg.type !== 'presence.ended') return false;
    this.#channels.get(msg.channel)?.handle(msg);
    return true;
  }
}
