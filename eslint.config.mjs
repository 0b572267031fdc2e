// Lint, including the layer rules of STYLE.md: core, shared, webview, cli and the host's pure
// models never import vscode; the webview never imports the core or the host; the core never
// imports host, cli or simulator.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'Only src/host may import vscode (layer rule).' };
const layer = (patterns, paths = [noVscode]) => ({
  'no-restricted-imports': ['error', { paths, patterns }],
});

// Features of src/host, each a folder; platform/ and webviews/ are what they share, boot/ starts them.
const HOST_FEATURES = ['chat', 'commands', 'dashboard', 'inline', 'languageModels', 'statusBar', 'walkthrough'];
const HOST_SHARED = ['platform', 'webviews'];
// The host's pure models: what the features show, computed without the editor, unit-tested in
// plain Node. They stay that way: no vscode import.
const HOST_PURE_MODELS = [
  'src/host/*/*Model.ts', 'src/host/platform/progressText.ts', 'src/host/inline/inlineText.ts', 'src/host/platform/keyNames.ts',
  'src/host/boot/publicApi.ts', 'src/host/platform/walkthroughIds.ts', 'src/host/chat/deltaCoalescer.ts',
  'src/host/dashboard/latencyTracker.ts', 'src/host/platform/updateThrottle.ts',
  'src/host/languageModels/modelCatalog.ts', 'src/host/languageModels/requestSource.ts', 'src/host/languageModels/lmMessages.ts', 'src/host/languageModels/tokenCount.ts',
  'src/host/platform/ids.ts', 'src/host/webviews/webviewHost.ts',
];
const pureNoVscode = { name: 'vscode', message: 'A pure host model may not import vscode: keep it testable in plain Node (layer rule).' };

function hostFolderRules() {
  const bootBan = { group: ['../boot', '../boot/*', '**/host/boot/**'], message: 'Only start-up code imports boot/: a feature gets what it needs through platform/services.ts (MaofServices) and platform/ids.ts.' };
  const featureBan = (except) => HOST_FEATURES.filter((f) => f !== except).map((f) => ({
    group: [`../${f}`, `../${f}/*`],
    message: `A host feature does not import another feature's internals (${f}/): share it through platform/, or let boot/ wire the two.`,
  }));
  const coreParts = { group: ['**/core/orchestrator', '**/core/cost/costLedger', '**/core/resilience/circuitBreaker', '**/core/cache/responseCache', '**/core/memory/sessionMemory'], importNamePattern: '^(?!.*(Entry|Summary|Snapshot|State|Turn|LEDGER_MAX_ENTRIES)$)', message: 'A host feature asks the core through core/maofCore.ts (MaofCore), not the orchestrator or its parts; only boot/ builds them.' };
  const folders = [...HOST_FEATURES.map((f) => ({ folder: f, patterns: [bootBan, coreParts, ...featureBan(f)] })), ...HOST_SHARED.map((f) => ({ folder: f, patterns: [bootBan, coreParts, ...featureBan(undefined)] })), { folder: 'boot', patterns: [] }];
  return folders.flatMap(({ folder, patterns }) => {
    const pure = HOST_PURE_MODELS.filter((m) => m.startsWith(`src/host/${folder}/`) || m.startsWith('src/host/*/'));
    const blocks = patterns.length > 0 ? [{ files: [`src/host/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } }] : [];
    return [...blocks, { files: pure.map((m) => m.replace('src/host/*/', `src/host/${folder}/`)), rules: layer(patterns, [pureNoVscode]) }];
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', '.test-runs/**', 'media/**', 'test-artifacts/**', '.maof-dev/**', 'bench/results*', '*.js', '*.mjs', 'test/fixtures/**/*.js', 'test/conformance/support/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: layer([
      { group: ['**/host/**', '**/cli/**', '**/webview/**', '**/simulator/**'], message: 'src/core is pure: it may not import host, cli, webview or simulator.' },
    ]),
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: layer([
      { group: ['**/host/**', '**/cli/**', '**/webview/**', '**/core/**', '**/simulator/**'], message: 'src/shared (the protocol, the error vocabulary, formatting) imports only itself.' },
    ]),
  },
  {
    files: ['src/webview/**/*.ts'],
    rules: layer([
      { group: ['**/host/**', '**/cli/**', '**/core/**', '**/simulator/**', 'node:*'], message: 'src/webview runs in the browser and imports only src/shared.' },
    ]),
  },
  {
    files: ['src/cli/**/*.ts', 'src/simulator/**/*.ts'],
    rules: layer([
      { group: ['**/host/**', '**/webview/**'], message: 'The CLI and the simulator run in plain Node.' },
    ]),
  },
  // The host's folders (STYLE.md, "A feature asks the core through one door"): start-up code (boot/)
  // imports features; a feature imports platform/ and webviews/ (shared host mechanics), the core
  // and shared, never boot/ nor another feature; platform/ and webviews/ import no feature.
  ...hostFolderRules(),
  {
    files: ['src/cli/**/*.ts', 'src/simulator/main.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
