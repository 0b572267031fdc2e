// `npm test`: every stage in order — lint, type-check, unit, reliability, conformance, editor setup,
// integration (real extension host), end-to-end (real UI) — then one summary and the closing line
// "N passed, N failed". Stops at the first stage that cannot run; exits non-zero on any failure.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

// The ledger (node:sqlite) needs Node 22.13+: every stage runs with such a Node first on PATH,
// brought into .cache/editor/node24 when the machine's is older (scripts/ensure-node.sh).
const sqliteNodeBin = execFileSync('bash', [path.join(__dirname, 'ensure-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
process.env.PATH = `${sqliteNodeBin}${path.delimiter}${process.env.PATH ?? ''}`;

interface Stage {
  name: string;
  cmd: string;
  args: string[];
  /** Reads pass/fail counts from the stage's output; stages without tests count as one check. */
  counts?: (out: string) => { passed: number; failed: number } | undefined;
}

const mochaCounts = (out: string): { passed: number; failed: number } | undefined => {
  const passing = /(\d+) passing/.exec(out);
  if (!passing) return undefined;
  const failing = /(\d+) failing/.exec(out);
  return { passed: Number(passing[1]), failed: failing ? Number(failing[1]) : 0 };
};
const lineCounts = (label: string) => (out: string): { passed: number; failed: number } | undefined => {
  const m = new RegExp(`^${label}: (\\d+) passed, (\\d+) failed`, 'm').exec(out);
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : undefined;
};

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const only = process.env.MAOF_TEST_STAGES?.split(',').map((s) => s.trim());
const stages: Stage[] = [
  { name: 'lint', cmd: npx, args: ['eslint', '.', '--max-warnings=0'] },
  // Unused exports, files and dependencies (knip.jsonc): dead code fails like a lint error.
  { name: 'deadcode', cmd: npx, args: ['knip', '--no-progress'] },
  { name: 'typecheck', cmd: npx, args: ['tsc', '--noEmit', '-p', '.'] },
  { name: 'build', cmd: 'node', args: ['esbuild.js'] },
  { name: 'unit', cmd: npx, args: ['mocha'], counts: mochaCounts },
  {
    name: 'reliability',
    cmd: npx,
    args: ['mocha', '--no-config', '--node-option', 'import=tsx', '--node-option', 'no-warnings=ExperimentalWarning', '--timeout', '120000', 'test/reliability/**/*.test.ts'],
    counts: mochaCounts,
  },
  {
    // Against software we did not write (mock-llm, the Portkey gateway), from pinned devDependencies; offline.
    name: 'conformance',
    cmd: npx,
    args: ['mocha', '--no-config', '--node-option', 'import=tsx', '--node-option', 'no-warnings=ExperimentalWarning', '--timeout', '120000', 'test/conformance/**/*.test.ts'],
    counts: mochaCounts,
  },
  { name: 'setup-editor', cmd: 'bash', args: ['scripts/setup-editor.sh'] },
  { name: 'integration', cmd: npx, args: ['tsx', 'scripts/test-integration.ts'], counts: lineCounts('integration') },
  { name: 'e2e', cmd: npx, args: ['tsx', 'scripts/test-e2e.ts'], counts: lineCounts('e2e') },
].filter((s) => !only || only.includes(s.name));

function run(stage: Stage): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(stage.cmd, stage.args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
      process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out, ms: Date.now() - started }));
    child.on('error', (err) => resolve({ code: 1, out: String(err), ms: Date.now() - started }));
  });
}

async function main(): Promise<void> {
  let passed = 0;
  let failed = 0;
  const rows: string[] = [];
  for (const stage of stages) {
    process.stdout.write(`\n=== ${stage.name}: ${stage.cmd} ${stage.args.join(' ')}\n`);
    const r = await run(stage);
    const c = stage.counts?.(r.out) ?? { passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 };
    if (r.code !== 0 && c.failed === 0) c.failed = 1; // a stage that crashed counts as a failure
    passed += c.passed;
    failed += c.failed;
    rows.push(`${stage.name.padEnd(14)} ${r.code === 0 ? 'ok  ' : 'FAIL'} ${String(c.passed).padStart(5)} passed ${String(c.failed).padStart(4)} failed ${(r.ms / 1000).toFixed(1).padStart(7)} s`);
    if (r.code !== 0 && stage.name === 'setup-editor') {
      rows.push('(the real-editor stages need the editor; they were not run)');
      break;
    }
  }
  process.stdout.write(`\n=== summary\n${rows.join('\n')}\n\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
