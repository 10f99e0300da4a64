/** DESIGN §2: apps → core → db; core → adapters/kit; gateway and worker also use adapters/<provider>. */
module.exports = {
  forbidden: [
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
    exclude: { path: '(node_modules|\\.test\\.ts$|/fixtures/)' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
