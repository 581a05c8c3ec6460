import type { StandardSchemaV1 } from '@syncline/protocol';

/**
 * What the client reads its types from: the server's config type (`typeof
 * config` of a `defineConfig` module, imported with `import type` so no
 * server code reaches the client) or any object type of the same shape. Each
 * channel namespace may declare a `data` schema (publication data) and a
 * `presence.state` schema (Standard Schema: valibot, zod, arktype …).
 */
export interface ClientSchema {
  readonly namespaces?: { readonly [namespace: string]: NamespaceTypes | undefined } | undefined;
  readonly rpc?: { readonly [method: string]: RpcTypes | undefined } | undefined;
}

/** The types a namespace declares. */
export interface NamespaceTypes {
  readonly data?: StandardSchemaV1 | undefined;
  readonly presence?: boolean | { readonly state?: StandardSchemaV1 | undefined } | undefined;
}

/** The schema of a client that was given none: every channel name, `unknown` data and state. */
export interface UntypedSchema {
  readonly namespaces?: undefined;
  readonly rpc?: undefined;
}

/** The names a schema declares under `K` (`namespaces`, `rpc`): `never` when it declares none, or any string. */
type Declared<C, K extends keyof ClientSchema> = C extends { readonly [P in K]: infer N }
  ? N extends object
    ? string extends keyof N
      ? never
      : keyof N & string
    : never
  : never;

/** Namespaces a schema declares by name. */
type DeclaredNamespace<C> = Declared<C, 'namespaces'>;

/**
 * The channel names a client may use: `namespace:name` for a declared
 * namespace (a typo in the namespace is a compile error), any string for an
 * untyped client.
 */
export type ChannelName<C> = [DeclaredNamespace<C>] extends [never] ? string : `${DeclaredNamespace<C>}:${string}`;

/** Namespace part of a channel name type. */
type NamespaceOf<Ch> = Ch extends `${infer N}:${string}` ? N : never;

/** The declared types of a channel's namespace, if any. */
type TypesOf<C, Ch> = C extends { readonly namespaces: infer N }
  ? NamespaceOf<Ch> extends keyof N
    ? N[NamespaceOf<Ch>]
    : undefined
  : undefined;

/**
 * Data of a channel's publications: the namespace's `data` schema input type
 * (the server checks data against the schema and stores it as sent), else
 * `unknown`.
 */
export type ChannelData<C, Ch> =
  TypesOf<C, Ch> extends { readonly data: infer S }
    ? S extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<S>
      : unknown
    : unknown;

/** Presence state in a channel: the namespace's `presence.state` schema input type, else `unknown`. */
export type PresenceStateOf<C, Ch> =
  TypesOf<C, Ch> extends { readonly presence: infer P }
    ? P extends { readonly state: infer S }
      ? S extends StandardSchemaV1
        ? StandardSchemaV1.InferInput<S>
        : unknown
      : unknown
    : unknown;

/** The types of an RPC method a schema declares: its `args` schema and its handler (whose return is the result). */
export interface RpcTypes {
  readonly args?: StandardSchemaV1 | undefined;
  readonly handler: (...args: never[]) => unknown;
}

/** RPC method names a schema declares. */
type DeclaredRpc<C> = Declared<C, 'rpc'>;

/** The RPC methods a client may call: the declared ones, any string for an untyped client. */
export type RpcName<C> = [DeclaredRpc<C>] extends [never] ? string : DeclaredRpc<C>;

/** The declared types of an RPC method, if any. */
type RpcOf<C, M> = C extends { readonly rpc: infer R } ? (M extends keyof R ? R[M] : undefined) : undefined;

/** What an RPC method takes: its `args` schema input type, else `unknown`. */
export type RpcArgs<C, M> =
  RpcOf<C, M> extends { readonly args: infer S }
    ? S extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<S>
      : unknown
    : unknown;

/** What an RPC method resolves with: its handler's (awaited) return type, else `unknown`. */
export type RpcReturn<C, M> =
  RpcOf<C, M> extends { readonly handler: (...args: never[]) => infer R } ? Awaited<R> : unknown;
