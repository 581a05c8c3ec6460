import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '@syncline/protocol';
import type * as v from 'valibot';

/** Options of the HTTP API. */
export interface HttpApiOptions {
  /** Largest request body (default the server's `maxFrameBytes`). */
  readonly maxBodyBytes: number;
  /**
   * Another way in than the API key (the operator console's session): true
   * accepts the request, false asks for the API key; may throw to refuse.
   */
  readonly authenticate?: ((req: IncomingMessage, route: ApiRoute) => boolean) | undefined;
}

/** Path prefix of the HTTP API. */
export const HTTP_API_PREFIX = '/v1';

/** One route of the HTTP API: what it takes and returns, for validation and the OpenAPI document. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Router path with `:param` segments. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly params?: Readonly<Record<string, v.GenericSchema>>;
  readonly query?: v.GenericSchema;
  readonly body?: v.GenericSchema;
  /** True when the body may be omitted. */
  readonly bodyOptional?: boolean;
  /** Largest body of this route (default the API's `maxBodyBytes`). */
  readonly maxBodyBytes?: number;
  readonly response: v.GenericSchema;
  /** Error codes the route documents (besides `unauthorized` and `internal`). */
  readonly errors: readonly ErrorCode[];
  readonly handle: (ctx: ApiContext) => Promise<unknown> | unknown;
}

/** What a route handler gets. */
export interface ApiContext {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly query: unknown;
}
