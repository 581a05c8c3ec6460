import {
  type CommandInput,
  type CommandInputs,
  type ErrorMessage,
  type ReplyMessage,
  type RequestCommand,
  type RequestType,
  type ResultOf,
  SynclineError,
} from '@syncline/protocol';

/** Options of one request. */
export interface RequestOptions {
  /** Safe to send again on a new connection if the reply was lost (idempotent commands). */
  readonly resend?: boolean;
  /** Time to wait for the reply, offline time included; 0 waits forever (default: the client's). */
  readonly timeoutMs?: number;
}

/** What the request manager needs from its connection. */
export interface RequestHost {
  /** True while commands can be sent. */
  readonly connected: boolean;
  /**
   * Set while the connection is refused for its token with no way to a new
   * one: a request made then rejects at once with this error.
   */
  readonly refusal?: SynclineError | undefined;
  /** Queues a command for the server. */
  send(command: RequestCommand): void;
  /** Timeout of a request without `timeoutMs`. */
  readonly defaultTimeoutMs: number;
  /** Sees every error reply before its request is rejected. */
  onErrorReply(err: SynclineError): void;
}

/** The command `input` with request id `id`. */
function withId<K extends RequestType>(input: CommandInput<K>, id: number): RequestCommand {
  // Widened in two steps (a command of type K is one of the command inputs), as the compiler relates them.
  const ofType: CommandInputs[K] = input;
  const any: CommandInputs[RequestType] = ofType;
  return { ...any, id };
}

interface PendingRequest {
  readonly id: number;
  readonly command: RequestCommand;
  readonly resend: boolean;
  sent: boolean;
  /** Takes the `result` of the reply. */
  readonly resolve: (result: unknown) => void;
  readonly reject: (e: SynclineError) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/** Turns an error message into a `SynclineError`. */
export function errorFromMessage(msg: ErrorMessage): SynclineError {
  return new SynclineError(msg.code, msg.message, {
    ...(msg.retryAfterMs === undefined ? {} : { retryAfterMs: msg.retryAfterMs }),
    ...(msg.details === undefined ? {} : { details: msg.details }),
  });
}

/**
 * Requests awaiting their reply, by correlation id. A request made while
 * disconnected waits for the next connection; on a connection loss, requests
 * marked `resend` (and subscribes) are kept for the next one, the others are
 * rejected with `connection_lost` since the server may have run them.
 * Timeouts count offline time too. While the host reports a `refusal` (the
 * token was refused and cannot be replaced), a new request rejects at once
 * with it; the host rejects those already waiting (`rejectAll`).
 */
export class RequestManager {
  readonly #host: RequestHost;
  readonly #requests = new Map<number, PendingRequest>();
  #nextId = 1;

  constructor(host: RequestHost) {
    this.#host = host;
  }

  /** A fresh correlation id (the `connect` command takes one too). */
  allocateId(): number {
    return this.#nextId++;
  }

  /**
   * Sends a command now (when connected) or on the next connection, and
   * resolves with the result of its reply.
   */
  request<K extends RequestType>(command: CommandInput<K>, options: RequestOptions = {}): Promise<ResultOf<K>> {
    return new Promise((resolve, reject) => {
      const refusal = this.#host.refusal;
      if (refusal) {
        reject(refusal);
        return;
      }
      const id = this.allocateId();
      const timeoutMs = options.timeoutMs ?? this.#host.defaultTimeoutMs;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.#requests.delete(id);
              reject(new SynclineError('request_timeout', `No reply to "${command.type}" within ${timeoutMs} ms.`));
            }, timeoutMs)
          : undefined;
      const req: PendingRequest = {
        id,
        command: withId(command, id),
        resend: options.resend ?? false,
        sent: false,
        // The reply to a command of type K carries a ResultOf<K>: that is the protocol's contract
        // (see `CommandResults`), the one thing a reply is trusted for.
        resolve: (result) => resolve(result as ResultOf<K>),
        reject,
        timer,
      };
      this.#requests.set(id, req);
      if (this.#host.connected) {
        req.sent = true;
        this.#host.send(req.command);
      }
    });
  }

  /**
   * Settles the request a `reply` or `error` message answers. Returns false
   * when no request waits for that id (the caller decides what to do with it).
   */
  settle(msg: ReplyMessage | ErrorMessage): boolean {
    const req = msg.id === undefined ? undefined : this.#requests.get(msg.id);
    if (!req) return false;
    this.#requests.delete(req.id);
    if (req.timer) clearTimeout(req.timer);
    if (msg.type === 'reply') req.resolve(msg.result);
    else {
      const err = errorFromMessage(msg);
      this.#host.onErrorReply(err);
      req.reject(err);
    }
    return true;
  }

  /** Sends the requests that wait for a connection (after `connect` was accepted). */
  sendUnsent(): void {
    for (const req of this.#requests.values()) {
      if (!req.sent) {
        req.sent = true;
        this.#host.send(req.command);
      }
    }
  }

  /** The connection dropped: mark in-flight work as unsent; reject what cannot be resent. */
  connectionLost(): void {
    for (const req of [...this.#requests.values()]) {
      if (!req.sent) continue;
      if (req.resend || req.command.type === 'subscribe') {
        req.sent = false;
        if (req.command.type === 'subscribe') {
          this.#drop(req, new SynclineError('connection_lost', 'Connection lost during subscribe.'));
        }
      } else {
        this.#drop(
          req,
          new SynclineError('connection_lost', `Connection lost before the reply to "${req.command.type}".`),
        );
      }
    }
  }

  /** Rejects every pending request (the client closed, or its token was refused for good). */
  rejectAll(err: SynclineError): void {
    for (const r of this.#requests.values()) {
      if (r.timer) clearTimeout(r.timer);
      r.reject(err);
    }
    this.#requests.clear();
  }

  #drop(req: PendingRequest, err: SynclineError): void {
    this.#requests.delete(req.id);
    if (req.timer) clearTimeout(req.timer);
    req.reject(err);
  }
}
