// Runs the integration suite in desktop VS Code through @vscode/test-electron, for contributors
// with internet access (it downloads VS Code on first use; offline, use `npm run test:integration`).
// Needs a display on Linux: run under `xvfb-run -a npm run test:electron` on a headless machine.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { createRunDir, repoRoot } from './editor';
import { buildExtension, buildIntegrationTests, integrationEntry, prepareWorkspace } from './test-integration';

interface Results {
  passed: number;
  failed: number;
}

function readResults(file: string): Results | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof v === 'object' && v !== null && 'passed' in v && 'failed' in v
      && typeof v.passed === 'number' && typeof v.failed === 'number') {
      return { passed: v.passed, failed: v.failed };
    }
  } catch {
    // no results
  }
  return undefined;
}

async function main(): Promise<number> {
  buildExtension();
  await buildIntegrationTests();
  const run = createRunDir('electron');
  const workspace = prepareWorkspace(run.root);
  const resultsDir = path.join(run.root, 'results');
  let exitCode = 0;
  try {
    exitCode = await runTests({
      // MAOF_VSCODE_VERSION picks the VS Code build (default: stable); `engines.vscode` is the floor.
      version: process.env.MAOF_VSCODE_VERSION ?? 'stable',
      cachePath: path.join(repoRoot, '.cache', 'vscode-test'), // gitignored with the rest of .cache/
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: integrationEntry,
      extensionTestsEnv: { MAOF_TEST_RESULTS_DIR: resultsDir },
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir', run.userDataDir,
        '--extensions-dir', run.extensionsDir,
      ],
      timeout: 60_000, // idle timeout of the download
    });
  } catch (err) {
    console.error(`[electron] ${err instanceof Error ? err.message : String(err)}`);
    console.error('[electron] @vscode/test-electron needs internet to download VS Code; offline, run `npm run test:integration`.');
    exitCode = 1;
  }
  const results = readResults(path.join(resultsDir, 'results.json'));
  const failed = Math.max(results?.failed ?? 0, exitCode !== 0 && !results?.failed ? 1 : 0);
  console.log(`integration (electron): ${results?.passed ?? 0} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

// runTests has no overall time limit; CI must not hang.
setTimeout(() => {
  console.error('[electron] gave up after 15 min');
  console.log('integration (electron): 0 passed, 1 failed');
  process.exit(1);
}, 15 * 60_000).unref();

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[electron] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
