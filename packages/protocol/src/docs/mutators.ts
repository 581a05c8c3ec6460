import type { StandardSchemaV1 } from './standard-schema.js';
import type { Transaction } from './transaction.js';

/** A mutator as a plain function: `(tx, args) => void`. */
export type MutatorFn<S = unknown, A = unknown> = (tx: Transaction<S>, args: A) => void;

/** A mutator whose args are validated with a Standard Schema (valibot, zod …) before it runs. */
export interface MutatorWithArgs<S = unknown, In = unknown, Out = In> {
  /** Schema of the args; on the server a failure is `invalid_args`. */
  readonly args: StandardSchemaV1<In, Out>;
  readonly run: MutatorFn<S, Out>;
}

/** Any mutator definition, as accepted by `defineMutators`. */
export type MutatorDefinition =
  | ((tx: never, args: never) => unknown)
  | { readonly args: StandardSchemaV1; readonly run: (tx: never, args: never) => unknown };

/** A named set of mutators. */
export type MutatorDefs = Readonly<Record<string, MutatorDefinition>>;

/** The args a caller passes to a mutator (the schema's input type when it has one). */
export type MutatorArgs<D> = D extends { readonly args: infer Sch extends StandardSchemaV1 }
  ? StandardSchemaV1.InferInput<Sch>
  : D extends (tx: never, args: infer A) => unknown
    ? A
    : never;

/**
 * Declares the mutators of a document namespace. Import the same object on
 * the server (namespace option `mutators`) and on the client
 * (`client.doc(name, { mutators })`). Mutators must be deterministic: read
 * time, user and client from `tx`, never from `Date.now()` or globals.
 *
 * @example
 * const mutators = defineMutators({
 *   addTodo(tx: Transaction<Todos>, args: { id: string; text: string }) {
 *     tx.draft.items.push({ id: args.id, text: args.text, done: false, at: tx.timestamp });
 *   },
 * });
 */
export function defineMutators<const D extends MutatorDefs>(defs: D, options: { readonly version?: number } = {}): D {
  for (const [name, def] of Object.entries(defs)) {
    const ok =
      typeof def === 'function' ||
      (typeof def === 'object' && def !== null && typeof def.run === 'function' && '~standard' in def.args);
    if (!ok) throw new TypeError(`Mutator "${name}" must be a function or { args: schema, run }.`);
  }
  if (options.version !== undefined) {
    if (!Number.isInteger(options.version) || options.version < 0) {
      throw new TypeError('The mutator set version must be a non-negative integer.');
    }
    setVersions.set(defs, options.version);
  }
  return defs;
}

const setVersions = new WeakMap<MutatorDefs, number>();

/**
 * Version of a mutator set, as given to `defineMutators(defs, { version })`
 * (undefined when none was). Clients send it with each mutation; a server
 * namespace with `minMutatorVersion` refuses older sets with `client_outdated`.
 */
export function mutatorsVersion(defs: MutatorDefs): number | undefined {
  return setVersions.get(defs);
}

/**
 * A mutator with an args schema; `args` in `run` is typed from the schema.
 * Annotate `tx` to type the state: `withArgs(schema, (tx: Transaction<S>, a) => …)`.
 */
export function withArgs<Sch extends StandardSchemaV1, S = unknown>(
  args: Sch,
  run: MutatorFn<S, StandardSchemaV1.InferOutput<Sch>>,
): MutatorWithArgs<S, StandardSchemaV1.InferInput<Sch>, StandardSchemaV1.InferOutput<Sch>> {
  return { args: args as StandardSchemaV1<StandardSchemaV1.InferInput<Sch>, StandardSchemaV1.InferOutput<Sch>>, run };
}

/** A resolved mutator: its run function and optional args schema. */
export interface ResolvedMutator {
  readonly run: (tx: Transaction<unknown>, args: unknown) => unknown;
  readonly args: StandardSchemaV1 | undefined;
}

/** Looks up a mutator by name (own properties only); undefined when unknown. */
export function resolveMutator(defs: MutatorDefs, name: string): ResolvedMutator | undefined {
  if (!Object.hasOwn(defs, name)) return undefined;
  const def = defs[name];
  if (typeof def === 'function') return { run: def as ResolvedMutator['run'], args: undefined };
  if (def && typeof def === 'object') return { run: def.run as ResolvedMutator['run'], args: def.args };
  return undefined;
}
