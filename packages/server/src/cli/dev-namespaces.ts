import type { NamespaceOptions } from '../namespaces/namespaces.js';

/** Namespaces of a server started without a config file (demo and quick trials). */
export const DEV_NAMESPACES: Readonly<Record<string, NamespaceOptions>> = {
  chat: { history: { size: 500, ttlMs: 24 * 3600_000 }, presence: true },
  demo: { history: { size: 100, ttlMs: 3600_000 }, presence: true },
};
