// Lint, including the layer rules of STYLE.md: core, shared, webview, cli and the host's pure
// models never import vscode; the webview never imports the core or the host; the core never
// imports host, cli or simulator.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'Only src/host may import vscode (layer rule).' };
const layer = (patterns, paths = [noVscode]) => ({
  'no-restricted-imports': ['error', { paths, patterns }],
});

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
  {
    // The host's pure models: what the features show, computed without the editor, unit-tested in
    // plain Node. They stay that way: no vscode import.
    files: [
      'src/host/*/*Model.ts', 'src/host/commands/progressText.ts', 'src/host/inline/inlineText.ts', 'src/host/platform/keyNames.ts',
      'src/host/dashboard/usageCsv.ts', 'src/host/boot/publicApi.ts', 'src/host/walkthrough/walkthroughIds.ts', 'src/host/chat/deltaCoalescer.ts',
      'src/host/dashboard/latencyTracker.ts', 'src/host/platform/updateThrottle.ts',
      'src/host/languageModels/modelCatalog.ts', 'src/host/languageModels/requestSource.ts', 'src/host/languageModels/lmMessages.ts', 'src/host/languageModels/tokenCount.ts',
      'src/host/boot/ids.ts', 'src/host/webviews/webviewHost.ts',
    ],
    rules: layer([], [{ name: 'vscode', message: 'A pure host model may not import vscode: keep it testable in plain Node (layer rule).' }]),
  },
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
