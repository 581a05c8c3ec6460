export { CLIENT_CLOCK_MARGIN_MS, DEFAULT_CLIENT_RETENTION_MS } from './client-retention.js';
export { DocEngine, MAX_CATCH_UP_OPS, type MutationInput } from './doc-engine.js';
export { type DocFanout, type DocPatchListener, LocalDocFanout } from './doc-fanout.js';
export {
  compareCodePoints,
  type DocListQuery,
  type NameRange,
  nameRange,
  nameRangeSql,
  prefixEnd,
  type StoredDocInfo,
} from './doc-listing.js';
export { DOC_DEFAULTS, type DocNamespaceOptions, DocNamespaces, type ResolvedDocNamespace } from './doc-namespaces.js';
export {
  DocOpsQuery,
  DocOpsResponse,
  DocsQuery,
  DocsResponse,
  docReadRoutes,
  MAX_DOCS_PAGE,
  MAX_OPS_PAGE,
  MAX_OPS_PAGE_BYTES,
} from './doc-read-routes.js';
export {
  ApiDocName,
  DocMutateBody,
  DocMutateResponse,
  DocResponse,
  docRoutes,
  MAX_MUTATE_BODY_BYTES,
} from './doc-routes.js';
export {
  OP_COLUMNS,
  type OpRow,
  opRowParams,
  opRowValues,
  patchMessageOf,
  publicOp,
  type SnapshotRow,
  snapshotFromRow,
  storedOpFromRow,
} from './doc-rows.js';
export {
  type CommitInput,
  type CommitListener,
  type DocStore,
  DocVersionConflict,
  type LoadedDocument,
  MAX_STORED_ARGS_BYTES,
  type StoredCall,
  type StoredOp,
  storedCall,
} from './doc-store.js';
export { DocSubscribers } from './doc-subscribers.js';
export type { DocsApi, ServerMutateOptions } from './docs-api.js';
export {
  type DocMigration,
  type DocSchemaVersions,
  migrateLoaded,
  resolveSchemaVersions,
  storedSchemaVersion,
} from './migrations.js';
export { assertMutatorVersion } from './mutator-versions.js';
export { type RegisterDocsOptions, registerDocs } from './register-docs.js';
export { SqliteDocStore } from './sqlite-doc-store.js';
