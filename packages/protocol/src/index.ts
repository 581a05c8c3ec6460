export * from './app-versions.js';
export * from './close-codes.js';
export * from './codec.js';
export * from './docs/index.js';
export * from './errors.js';
export * from './messages/index.js';
export * from './names.js';
export * from './version.js';
