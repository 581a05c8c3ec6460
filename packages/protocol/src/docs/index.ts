export * from './mutators.js';
export * from './patches.js';
export * from './standard-schema.js';
export * from './transaction.js';
export * from './undo.js';
