/**
 * DESIGN §2: apps → core → db; core → adapters/kit; gateway and worker also use adapters/<provider>.
 * Inside core (docs/adr/0004-core-in-rooms.md): platform/ imports no domain room; the domain rooms speak no HTTP.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import cycles, type-only ones included: a cycle means two modules are one, or one is misplaced',
      from: {},
      to: { circular: true },
    },
    {
      name: 'console-uses-only-the-public-api',
      severity: 'error',
      comment:
        'the agent console is a browser client of the public REST and WebSocket API: it imports no package of ours, and no app imports it ' +
        '(its build script, run by node, shares the build lock in tools/)',
      from: { path: '^apps/console/', pathNot: '^apps/console/build\\.mjs$' },
      to: { path: '^(apps/(?!console/)|core|db|adapters|tools|test)/' },
    },
    {
      name: 'nothing-imports-the-console',
      severity: 'error',
      from: { path: '^(apps/(?!console/)|core|db|adapters|tools)/' },
      to: { path: '^apps/console/' },
    },
    {
      name: 'apps-reach-db-through-core',
      severity: 'error',
      comment: 'apps and tools use core services; only core (and db itself) imports @comms/db',
      from: { path: '^(apps|tools)/' },
      to: { path: '^db/' },
    },
    {
      name: 'platform-imports-no-domain',
      severity: 'error',
      comment: 'core/platform is the plumbing every room uses; it never reaches into inbox, chat, realtime or tenancy',
      from: { path: '^core/src/platform/' },
      to: { path: '^core/src/(?!platform/)' },
    },
    {
      name: 'domain-rooms-stand-apart',
      severity: 'error',
      comment: 'inbox, chat and tenancy use platform only; realtime delivers chat and inbox events and may use chat',
      from: { path: '^core/src/(inbox|chat|tenancy|realtime)/' },
      to: { path: '^core/src/(inbox|chat|realtime|tenancy)/', pathNot: ['^core/src/$1/', '^core/src/chat/'] },
    },
    {
      name: 'only-realtime-uses-chat',
      severity: 'error',
      from: { path: '^core/src/(inbox|tenancy)/' },
      to: { path: '^core/src/chat/' },
    },
    {
      name: 'domain-speaks-no-http',
      severity: 'error',
      comment:
        "HTTP is the apps' business (and platform/http's, the plumbing they serve with): the domain returns results and throws AppError",
      from: { path: '^core/src/(?!platform/http/)' },
      to: { path: '(^|/)node_modules/(hono|@hono)/' },
    },
    {
      name: 'kit-is-pure',
      severity: 'error',
      comment: 'the adapter contract does no I/O: no HTTP client, no sockets, no files (its testing subpath aside)',
      from: { path: '^adapters/kit/src/(?!testing\\.ts$)' },
      to: { path: '^(node:)?(http|https|net|fs|child_process)$', dependencyTypes: ['core'] },
    },
    {
      name: 'testing-kits-stay-out-of-production',
      severity: 'error',
      comment:
        "adapters' testing subpaths (signed provider webhooks, fake servers) are for tests, benchmarks and tools; no app, core, db or adapter code imports them",
      from: { path: '^(apps|core|db)/|^adapters/[^/]+/src/(?!testing\\.ts$)' },
      to: { path: '^adapters/[^/]+/src/testing\\.ts$' },
    },
    {
      name: 'db-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^(apps|core|adapters)/' },
    },
    {
      name: 'core-not-to-apps-or-providers',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^(apps/|adapters/(?!kit/))' },
    },
    {
      name: 'adapters-are-pure',
      severity: 'error',
      comment: 'adapters never touch the db, core or apps',
      from: { path: '^adapters/' },
      to: { path: '^(apps|core|db)/' },
    },
    {
      name: 'kit-imports-no-provider',
      severity: 'error',
      from: { path: '^adapters/kit/' },
      to: { path: '^adapters/(?!kit/)' },
    },
    {
      name: 'api-uses-no-provider',
      severity: 'error',
      comment: 'only gateway and worker use provider adapters',
      from: { path: '^apps/api/' },
      to: { path: '^adapters/(?!kit/)' },
    },
    {
      name: 'apps-do-not-import-each-other',
      severity: 'error',
      comment: 'only apps/all-in-one composes the others',
      from: { path: '^apps/(api|gateway|worker)/' },
      to: { path: '^apps/(?!$1)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(\\.test\\.ts$|/fixtures/)' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
