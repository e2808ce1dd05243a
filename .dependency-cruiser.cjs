// npm run lint's cycle check (README "How the CLI is built": no import cycles). Type-only imports
// count too (tsPreCompilationDeps): a cycle of types still ties the two modules together.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle: move what both sides need into a third module, or take an interface',
      from: {},
      to: {circular: true},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
  },
};
