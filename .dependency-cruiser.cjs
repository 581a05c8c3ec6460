/**
 * Dependency rules of the Syncline monorepo, checked by `npm run deps`
 * (dependency-cruiser) in CI right after the lint step. See
 * docs/architecture.md for the layers these rules keep apart.
 *
 * A known exception is listed with the reason it exists and the way out; the
 * rules themselves are never weakened to make a build pass.
 */

/** Server modules that form the core: they must not name a feature. */
const SERVER_CORE =
  '^packages/server/src/(session/|transport/|auth/|broker/|storage/|metrics/|namespaces/|ordering/|health/|cluster/|http/router\\.ts$|core\\.ts$|hooks\\.ts$)';
/** Server feature folders. */
const SERVER_FEATURES = '^packages/server/src/(admin|channels|docs|nodes|presence|users|versions|webhooks)/';

/**
 * Known exceptions to `server-core-names-no-feature`: each core file listed
 * may import exactly these feature files and no other. None today: the core
 * types what it hands to features with interfaces it owns, and features
 * (channels, documents, presence, users, versions) register on it.
 */
const SERVER_CORE_KNOWN_EXCEPTIONS = {};

/** Client modules that form the core: they must not name a client feature. */
const CLIENT_CORE = '^packages/client/src/(connection\\.ts$|request-manager\\.ts$|transport/)';
const CLIENT_FEATURES = '^packages/client/src/(docs|presence)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles between files, type-only imports included. Break a cycle with a narrow ' +
        'interface owned by the lower module (see docs/architecture.md).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-by-name-only',
      severity: 'error',
      comment:
        "A package imports another package by its name (through `exports`), never by a relative path into the other package's folder.",
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: '^packages/$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'server-core-names-no-feature',
      severity: 'error',
      comment:
        'The server core (sessions, transports, auth, the router, core.ts) names no feature: features register on the core, not the other way round.',
      from: { path: SERVER_CORE, pathNot: Object.keys(SERVER_CORE_KNOWN_EXCEPTIONS) },
      to: { path: SERVER_FEATURES },
    },
    ...Object.entries(SERVER_CORE_KNOWN_EXCEPTIONS).map(([from, allowed]) => ({
      name: 'server-core-names-no-feature',
      severity: 'error',
      comment: 'A known exception (listed at the top of this file) imports a feature file it is not allowed.',
      from: { path: from },
      to: { path: SERVER_FEATURES, pathNot: allowed },
    })),
    {
      name: 'client-core-names-no-feature',
      severity: 'error',
      comment:
        'The client core (connection, request manager, transports) names no client feature (documents, presence).',
      from: { path: CLIENT_CORE },
      to: { path: CLIENT_FEATURES },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['types', 'import', 'default'],
      extensions: ['.ts', '.tsx', '.js'],
    },
  },
};
