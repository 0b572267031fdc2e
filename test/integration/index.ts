// Mocha entry that runs inside the VS Code extension host (code-server or @vscode/test-electron).
// Extension-host console output does not reach the runner, so the report and a results.json go to
// the folder named by MAOF_TEST_RESULTS_DIR.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

interface Failure {
  title: string;
  error: string;
}

interface Results {
  passed: number;
  failed: number;
  pending: number;
  failures: Failure[];
}

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } =
  Mocha.Runner.constants;

function errorText(err: unknown): { message: string; detail: string } {
  if (err instanceof Error) {
    const message = `${err.name}: ${err.message}`;
    return { message, detail: err.stack ?? message };
  }
  return { message: String(err), detail: String(err) };
}

/** Spec-like reporter that writes to a file line by line (so a hung run still shows progress). */
function captureReporter(outFile: string | undefined, results: Results) {
  const write = (line: string): void => {
    if (outFile) fs.appendFileSync(outFile, line + '\n');
    console.log(line);
  };
  return class CaptureReporter extends Mocha.reporters.Base {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
      super(runner, options);
      let depth = 0;
      const indent = (): string => '  '.repeat(depth);
      const details: string[] = [];
      runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
        if (!suite.root) write(`${indent()}${suite.title}`);
        depth++;
      });
      runner.on(EVENT_SUITE_END, () => {
        depth--;
      });
      runner.on(EVENT_TEST_PASS, (test: Mocha.Test) => {
        results.passed++;
        write(`${indent()}✔ ${test.title} (${test.duration ?? 0} ms)`);
      });
      runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
        results.pending++;
        write(`${indent()}- ${test.title} (skipped)`);
      });
      runner.on(EVENT_TEST_FAIL, (test: Mocha.Test, err: unknown) => {
        results.failed++;
        const { message, detail } = errorText(err);
        results.failures.push({ title: test.fullTitle(), error: message });
        write(`${indent()}✘ ${results.failed}) ${test.title}`);
        details.push(`${results.failed}) ${test.fullTitle()}\n${detail}`);
      });
      runner.once(EVENT_RUN_END, () => {
        write('');
        write(`${results.passed} passing, ${results.failed} failing, ${results.pending} pending`);
        for (const d of details) write(`\n${d}`);
      });
    }
  };
}

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.js'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export function run(): Promise<void> {
  const resultsDir = process.env.MAOF_TEST_RESULTS_DIR;
  const outFile = resultsDir ? path.join(resultsDir, 'mocha-output.txt') : undefined;
  const results: Results = { passed: 0, failed: 0, pending: 0, failures: [] };
  if (resultsDir) {
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(outFile!, '');
  }
  const writeResults = (): void => {
    if (resultsDir) fs.writeFileSync(path.join(resultsDir, 'results.json'), JSON.stringify(results, null, 2));
  };

  // MAOF_INTEGRATION_GREP (passed through by the runner) runs only the matching tests.
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: captureReporter(outFile, results), grep: process.env.MAOF_INTEGRATION_GREP || undefined });
  for (const f of testFiles(__dirname)) mocha.addFile(f);

  return new Promise<void>((resolve, reject) => {
    try {
      mocha.run((failures) => {
        writeResults();
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
    } catch (err) {
      // A test file that throws while loading fails the whole run.
      const { message, detail } = errorText(err);
      results.failed++;
      results.failures.push({ title: 'loading the integration tests', error: message });
      if (outFile) fs.appendFileSync(outFile, `loading the integration tests failed:\n${detail}\n`);
      writeResults();
      reject(err instanceof Error ? err : new Error(message));
    }
  });
}
