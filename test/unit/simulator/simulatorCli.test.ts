// The simulator's command line, as scripts and `npm run sim` use it: one JSON line with the base
// URLs on stdout, chaos from flags, a clean exit on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.resolve(__dirname, '../../..');

describe('simulator CLI', () => {
  let dir: string;
  let bundle: string;

  // Bundled as esbuild.js bundles dist/simulator.js, and run with plain node as users run it.
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'maof-sim-cli-'));
    bundle = path.join(dir, 'simulator.js');
    buildSync({ entryPoints: [path.join(ROOT, 'src/simulator/main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, logLevel: 'silent' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints its base URLs, serves with the chaos it was given, and exits 0 on SIGTERM', async function () {
    this.timeout(15_000);
    const child = spawn(process.execPath, [bundle, '--port', '0', '--chaos', '1', '--seed', '5', '--latency', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      while (!out.includes('\n')) {
        const [chunk] = (await once(child.stdout, 'data')) as [string];
        out += chunk;
      }
      const address = JSON.parse(out.split('\n')[0] ?? '') as { port: number; openaiBaseUrl: string; anthropicBaseUrl: string };
      assert.match(address.openaiBaseUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      assert.equal(address.anthropicBaseUrl, `http://127.0.0.1:${address.port}`);

      const statuses: string[] = [];
      for (let i = 0; i < 3; i++) {
        try {
          const res = await fetch(`${address.openaiBaseUrl}/chat/completions`, {
            method: 'POST',
            headers: { authorization: 'Bearer sk-test' },
            body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
          });
          await res.arrayBuffer();
          statuses.push(String(res.status));
        } catch {
          statuses.push('reset');
        }
      }
      assert.ok(!statuses.includes('200'), `chaos 1 breaks every request: ${statuses.join(',')}`);
      const tally = (await (await fetch(`http://127.0.0.1:${address.port}/__sim/tally`)).json()) as { requests: number; faulted: number };
      assert.deepEqual([tally.requests, tally.faulted], [3, 3]);

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
