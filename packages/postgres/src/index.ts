export { MIGRATIONS, migrate } from './migrations.js';
export { PostgresDocStore, type PostgresDocStoreOptions } from './postgres-doc-store.js';
