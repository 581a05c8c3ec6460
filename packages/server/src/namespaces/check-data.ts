import { type StandardSchemaV1, SynclineError, validateWith } from '@syncline/protocol';

/**
 * Checks `value` against a namespace's schema (publication data, presence
 * state); throws `invalid_data` with the schema's messages (`details.issues`)
 * when it fails. No schema: anything passes. The value itself is kept as
 * sent (a schema that transforms does not change what is stored).
 */
export async function checkData(schema: StandardSchemaV1 | undefined, value: unknown, what: string): Promise<void> {
  if (schema === undefined) return;
  let check: Awaited<ReturnType<typeof validateWith>>;
  try {
    check = await validateWith(schema, value);
  } catch (err) {
    // A schema that throws is the app's bug, not the client's input.
    throw new SynclineError('internal', `The ${what} schema failed to run.`, { cause: err });
  }
  if (check.ok) return;
  const first = check.issues[0];
  const at = first?.path ? ` at "${first.path}"` : '';
  throw new SynclineError('invalid_data', `Invalid ${what}${at}: ${first?.message ?? 'rejected by the schema'}.`, {
    details: { issues: check.issues },
  });
}
