/**
 * Cross-node delivery of HTTP-transport requests (SSE POSTs, long-polls).
 *
 * An SSE stream or a long-polling session lives on the node that opened it
 * (its owner). Without sticky sessions, the client's later requests for that
 * session may reach any node behind the load balancer; that node hands them to
 * the owner through a `SessionForwarder` and relays the owner's answer.
 */

/** A request for an HTTP session, as one node passes it to another. */
export type ForwardedRequest =
  /** Frames from a client POST: one or more frames separated by `\n`. */
  | { readonly kind: 'send'; readonly session: string; readonly body: string }
  /** A long-poll: wait for frames (up to the owner's poll timeout) and take them. */
  | { readonly kind: 'poll'; readonly session: string }
  /** The client ends the session. */
  | { readonly kind: 'close'; readonly session: string };

/** The owner's answer, relayed to the client as an HTTP response. */
export interface ForwardedResponse {
  readonly status: number;
  readonly body: string;
  /** Content type of `body` (default JSON). */
  readonly contentType?: string;
}

/** Serves forwarded requests for the sessions a node owns. */
export type ForwardHandler = (request: ForwardedRequest) => Promise<ForwardedResponse>;

/**
 * The seam between nodes for HTTP sessions.
 *
 * Contract:
 * - `serve(nodeId, handler)` makes this node the destination for requests
 *   addressed to `nodeId`; the returned function detaches it (on shutdown).
 * - `forward(nodeId, request)` resolves with the owner's response. Requests
 *   for one session sent one after the other (each awaited) reach the owner in
 *   that order. When no node serves `nodeId` it resolves with status 404 and a
 *   `session_not_found` body; when the owner does not answer in time it
 *   rejects (the caller answers `unavailable`). A rejected `send` may or may
 *   not have been delivered; clients treat it as a lost connection.
 * - Implementations carry bodies opaquely (no parsing) and bound the time a
 *   `poll` may take to the owner's poll timeout plus transit.
 */
export interface SessionForwarder {
  serve(nodeId: string, handler: ForwardHandler): () => void;
  forward(nodeId: string, request: ForwardedRequest): Promise<ForwardedResponse>;
}

/** The JSON body of a `session_not_found` answer. */
export function sessionNotFoundBody(session: string): string {
  return JSON.stringify({
    error: { code: 'session_not_found', message: `No live HTTP session "${session.slice(0, 80)}".` },
  });
}

/**
 * In-process forwarder: the embedded server's (trivially local) bus. Servers
 * in one process that share an instance reach each other's sessions, which is
 * also how tests exercise forwarding without Redis.
 */
export class LocalSessionForwarder implements SessionForwarder {
  readonly #nodes = new Map<string, ForwardHandler>();

  serve(nodeId: string, handler: ForwardHandler): () => void {
    this.#nodes.set(nodeId, handler);
    return () => {
      if (this.#nodes.get(nodeId) === handler) this.#nodes.delete(nodeId);
    };
  }

  async forward(nodeId: string, request: ForwardedRequest): Promise<ForwardedResponse> {
    const handler = this.#nodes.get(nodeId);
    if (!handler) return { status: 404, body: sessionNotFoundBody(request.session) };
    return handler(request);
  }
}
