/**
 * The Standard Schema interface (https://standardschema.dev), copied as the
 * spec recommends so that valibot, zod, arktype … schemas plug in without a
 * dependency on any of them.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

export declare namespace StandardSchemaV1 {
  /** The properties of a Standard Schema. */
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  /** Outcome of a validation. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  export interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  export interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  export interface PathSegment {
    readonly key: PropertyKey;
  }
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  /** The input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input'];
  /** The output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output'];
}

/** A validation issue flattened for error details: a dotted path and a message. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

/** Outcome of `validateWith`. */
export type SchemaCheck<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: SchemaIssue[] };

function flatten(issues: ReadonlyArray<StandardSchemaV1.Issue>): SchemaIssue[] {
  return issues.slice(0, 10).map((i) => ({
    path: (i.path ?? []).map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p)).join('.'),
    message: i.message,
  }));
}

function toCheck<T>(r: StandardSchemaV1.Result<T>): SchemaCheck<T> {
  return r.issues ? { ok: false, issues: flatten(r.issues) } : { ok: true, value: r.value };
}

/** True when `value` is a Standard Schema (has a `~standard` object with a `validate` function). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  if (value === null || !('~standard' in value)) return false;
  const props = (value as { '~standard': unknown })['~standard'];
  return (
    typeof props === 'object' && props !== null && typeof (props as { validate?: unknown }).validate === 'function'
  );
}

/**
 * Validates `value` with a Standard Schema. Returns synchronously when the
 * schema is synchronous, a promise otherwise.
 */
export function validateWith<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): SchemaCheck<T> | Promise<SchemaCheck<T>> {
  const r = schema['~standard'].validate(value);
  return r instanceof Promise ? r.then(toCheck) : toCheck(r);
}
