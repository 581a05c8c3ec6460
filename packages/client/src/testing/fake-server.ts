import {
  type ClientCommand,
  type Codec,
  type CommandType,
  type ConnectResult,
  type ErrorCode,
  type ErrorMessage,
  jsonCodec,
  PROTOCOL_VERSION,
  parseCommand,
  type ServerMessage,
} from '@syncline/protocol';
import type { ClientFrame, ClientTransport, ClientTransportEvents, TransportFactory } from '../transport/transport.js';

/** Real timers, taken before a test can install fake ones: a wait on the fake server keeps its deadline. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** How long `expectCommand` waits when no timeout is given. */
export const EXPECT_COMMAND_TIMEOUT_MS = 1_000;

/** A command the client sent, with the connection it came on. */
export interface ReceivedCommand {
  readonly command: ClientCommand;
  /** 1 for the first connection the fake server accepted, 2 for the next … */
  readonly connection: number;
}

/** A frame element the client sent that is not a valid command. */
export interface InvalidFrame {
  readonly raw: unknown;
  readonly reason: string;
}

/** The command of one type, as the protocol schema types it. */
export type CommandOfType<K extends CommandType> = Extract<ClientCommand, { readonly type: K }>;

/** One transport the client opened on the fake server. */
interface FakeConnection {
  readonly n: number;
  readonly events: ClientTransportEvents;
  open: boolean;
  /** Set when the client closed it. */
  closedByClient: { readonly code: number; readonly reason: string } | undefined;
}

interface Waiter {
  readonly accepts: (c: ClientCommand) => boolean;
  readonly resolve: (c: ClientCommand) => void;
}

/**
 * An in-process server for client unit tests: no sockets, every frame
 * scripted by the test. Pass `transport` to the client (the `transport`
 * option, or straight to `Connection`); each connection attempt opens a fake
 * connection (on a later turn of the event loop, like a socket's `open`). Every frame the
 * client sends is decoded, checked against the protocol's command schemas and
 * kept in `received`; the test takes commands with `expectCommand` and
 * answers with `reply`, `replyError` and `push`, or cuts the link with `drop`.
 *
 * Waits never sleep: `expectCommand` resolves when the command arrives and,
 * past its deadline, fails with every command the client did send.
 */
export class FakeServer {
  readonly #connections: FakeConnection[] = [];
  readonly #received: ReceivedCommand[] = [];
  readonly #invalid: InvalidFrame[] = [];
  /** Commands not yet taken by `expectCommand`, in arrival order. */
  readonly #unclaimed: ClientCommand[] = [];
  readonly #waiters = new Set<Waiter>();
  #refusals: Error[] = [];
  /** Wire format of every frame, both ways (the client must be given the same one). */
  readonly codec: Codec;

  constructor(codec: Codec = jsonCodec) {
    this.codec = codec;
  }

  /** The transport factory to give the client. */
  readonly transport: TransportFactory = async (_baseUrl, events) => {
    const refusal = this.#refusals.shift();
    if (refusal) throw refusal;
    const conn: FakeConnection = { n: this.#connections.length + 1, events, open: true, closedByClient: undefined };
    this.#connections.push(conn);
    const transport: ClientTransport = {
      name: 'fake',
      send: (frame) => this.#onFrame(conn, frame),
      close: (code, reason) => {
        conn.open = false;
        conn.closedByClient = { code, reason };
      },
    };
    // Opens on a later turn, as a socket does: the client holds the transport by then.
    realSetTimeout(() => {
      if (conn.open) events.onOpen();
    }, 0);
    return transport;
  };

  /** Every valid command the client sent, in order. */
  get received(): readonly ReceivedCommand[] {
    return this.#received;
  }

  /** Frame elements that were not valid commands (a client bug). */
  get invalid(): readonly InvalidFrame[] {
    return this.#invalid;
  }

  /** Connections opened so far (closed ones included). */
  get connectionCount(): number {
    return this.#connections.length;
  }

  /** True while the latest connection is open. */
  get open(): boolean {
    return this.#connections.at(-1)?.open ?? false;
  }

  /** How the client closed the latest connection, if it did. */
  get closedByClient(): { readonly code: number; readonly reason: string } | undefined {
    return this.#connections.at(-1)?.closedByClient;
  }

  /** The next connection attempt fails (the factory rejects with `err`): a `transport_error`. */
  refuseNextConnection(err: Error = new Error('connection refused')): void {
    this.#refusals.push(err);
  }

  /**
   * Takes the oldest command of `type` the client sent and that no earlier
   * call took, waiting for it up to `timeoutMs` (real time, also under fake
   * timers). Fails with what the client sent instead.
   */
  expectCommand<K extends CommandType>(
    type: K,
    timeoutMs: number = EXPECT_COMMAND_TIMEOUT_MS,
  ): Promise<CommandOfType<K>> {
    const isType = (c: ClientCommand): c is CommandOfType<K> => c.type === type;
    const i = this.#unclaimed.findIndex(isType);
    const found = this.#unclaimed[i];
    if (found && isType(found)) {
      this.#unclaimed.splice(i, 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        accepts: isType,
        resolve: (c) => {
          realClearTimeout(timer);
          this.#waiters.delete(waiter);
          if (isType(c)) resolve(c);
        },
      };
      const timer = realSetTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`Wanted a "${type}" command within ${timeoutMs} ms; ${this.describeReceived()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The commands received so far, for failure messages: `saw connect#1, subscribe#2 (chat:a)`. */
  describeReceived(): string {
    const seen = this.#received.map(({ command: c }) => {
      const id = 'id' in c && c.id !== undefined ? `#${c.id}` : '';
      const target = 'channel' in c ? ` (${c.channel})` : 'doc' in c ? ` (${c.doc})` : '';
      return `${c.type}${id}${target}`;
    });
    const bad = this.#invalid.length > 0 ? `; invalid frames: ${this.#invalid.map((f) => f.reason).join('; ')}` : '';
    return `saw ${seen.length > 0 ? seen.join(', ') : 'no command'}${bad}`;
  }

  /** Waits for `connect` and accepts it; `result` overrides fields of the reply. Returns the command. */
  async accept(result: Partial<ConnectResult> = {}): Promise<CommandOfType<'connect'>> {
    const cmd = await this.expectCommand('connect');
    this.reply(cmd.id, {
      session: `session-${this.connectionCount}`,
      user: 'alice',
      protocol: PROTOCOL_VERSION,
      pingIntervalMs: 25_000,
      features: [],
      node: 'fake-node',
      ...result,
    } satisfies ConnectResult);
    return cmd;
  }

  /** Answers request `id` with `result`. */
  reply(id: number, result: unknown): void {
    this.push({ type: 'reply', id, result });
  }

  /** Answers request `id` with an error. */
  replyError(
    id: number,
    code: ErrorCode,
    message: string = code,
    extra: Pick<ErrorMessage, 'retryAfterMs' | 'details'> = {},
  ): void {
    this.push({ type: 'error', id, code, message, ...extra });
  }

  /** Sends one server message (or several in one frame) on the open connection. */
  push(message: ServerMessage | readonly ServerMessage[]): void {
    const conn = this.#openConnection('push');
    conn.events.onFrame(this.codec.encode(message));
  }

  /** Sends a raw frame, as is (to test bad frames). */
  pushRaw(frame: ClientFrame): void {
    this.#openConnection('pushRaw').events.onFrame(frame);
  }

  /** The connection is lost (the transport reports a close with `code`, 1006 by default). */
  drop(code = 1006, reason = 'connection lost'): void {
    const conn = this.#openConnection('drop');
    conn.open = false;
    conn.events.onClose(code, reason);
  }

  /** The server says `disconnect` (with its code and whether to reconnect), then closes with that code. */
  disconnect(code: number, reason: string, reconnect: boolean, retryAfterMs?: number): void {
    this.push({ type: 'disconnect', code, reason, reconnect, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    this.drop(code, reason);
  }

  #openConnection(what: string): FakeConnection {
    const conn = this.#connections.at(-1);
    if (!conn?.open) throw new Error(`FakeServer.${what}: no open connection (${this.describeReceived()})`);
    return conn;
  }

  #onFrame(conn: FakeConnection, frame: ClientFrame): void {
    if (!conn.open) throw new Error('FakeServer: the client sent a frame on a closed transport');
    let decoded: unknown;
    try {
      decoded = this.codec.decode(frame);
    } catch {
      this.#invalid.push({ raw: frame, reason: `not ${this.codec.label}` });
      return;
    }
    for (const raw of Array.isArray(decoded) ? decoded : [decoded]) {
      const parsed = parseCommand(raw);
      if (!parsed.ok) {
        this.#invalid.push({ raw, reason: `${parsed.code}: ${parsed.message}` });
        continue;
      }
      const command = parsed.command;
      this.#received.push({ command, connection: conn.n });
      const waiter = [...this.#waiters].find((w) => w.accepts(command));
      if (waiter) waiter.resolve(command);
      else this.#unclaimed.push(command);
    }
  }
}
