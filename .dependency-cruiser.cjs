// The layering of src/ (README "Layout"), checked by dependency-cruiser in `npm test` (`npm run deps`).
// Layers from the bottom up; a module may import its own layer and the layers below, never above.
// Type-only imports count too (tsPreCompilationDeps), so a type cannot smuggle an upward edge in.
const LAYERS = [
  ['domain'],
  ['errors', 'logging', 'config\\.ts'],
  ['repository', 'accounts', 'transports', 'redis'],
  ['pipeline'],
  ['jobs'],
  ['api'],
  ['daemon\\.ts'],
  ['main\\.ts', 'cli', 'client'],
];

const pathOf = (names) => `^src/(${names.join('|')})`;

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-layer-${i}`,
  comment: `${layer.join(', ')} may not import a higher layer (${LAYERS.slice(i + 1).flat().join(', ')})`,
  severity: 'error',
  from: { path: pathOf(layer) },
  to: { path: pathOf(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import cycle anywhere in src/', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    { name: 'src-not-to-test', comment: 'production code never imports test code', severity: 'error', from: { path: '^src/' }, to: { path: '^test/' } },
    {
      name: 'domain-is-a-leaf',
      comment: 'src/domain imports nothing of ours but itself (and no package)',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'pipeline-sees-transport-interfaces-only',
      comment: 'the pipeline composes guests from transports/transport.ts interfaces; it never imports ssh2, SMB, NTLM or WinRM code',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: ['^src/transports/(ssh|smb|ntlm|winrm)/', 'node_modules/(ssh2|node-ssh)/'] },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/web/' },
  },
};
