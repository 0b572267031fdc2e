// What another extension gets from MAOF, in production: the packaged VSIX is installed beside a
// stranger extension (test/fixtures/probe-extension) that activates MAOF and walks everything its
// exports lead to — properties, getters, prototypes, symbols, the results of calling every function.
// With a key stored through the palette, nothing it reaches may be the key, the extension context,
// SecretStorage, the orchestrator or the settings.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { e2eIt, runCommand, session } from './driver';
import { setOpenAiKeyThroughPalette, simulatorSuite } from './simulatorSetup';

const KEY = 'sk-e2e-probe-openai-Zq8Wm3Kd7Lp2Xv9T';

interface ProbeResult {
  found: boolean;
  exportKeys?: string[];
  paths?: string[];
  markers?: string[];
  strings?: string[];
  nodes?: number;
}

describe('the exports another extension receives (production VSIX)', function () {
  this.timeout(120_000);
  simulatorSuite();


  e2eIt('give a stranger extension a read-only status and no path to a key', async (page) => {
    await setOpenAiKeyThroughPalette(page, KEY);
    const out = path.join(session().workspace, '.maof-probe.json');
    fs.rmSync(out, { force: true });
    await runCommand(page, 'MAOF Probe: Inspect Exports');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(out) && Date.now() < deadline) await page.waitForTimeout(250);
    assert.ok(fs.existsSync(out), 'the probe extension wrote no result');
    const result = JSON.parse(fs.readFileSync(out, 'utf8')) as ProbeResult;
    fs.rmSync(out, { force: true });

    assert.equal(result.found, true, 'the probe found MAOF');
    assert.deepEqual(result.exportKeys?.sort(), ['apiVersion', 'status']);
    assert.deepEqual(result.markers, [], `paths that lead into MAOF's internals: ${JSON.stringify(result.markers)}`);
    const strings = result.strings ?? [];
    const leaks = strings.filter((s) => s.includes(KEY) || s.includes(KEY.slice(8, 24)));
    assert.deepEqual(leaks, [], 'no string the probe reached holds the key');
    const paths = result.paths ?? [];
    assert.ok(paths.some((p) => p === 'exports.status().breakers'), `the status was readable: ${paths.slice(0, 20).join(', ')}`);
    assert.ok(strings.includes('sim-gpt'), 'the status lists the agents\' breakers');
    assert.ok(paths.length < 200, `the exports lead to ${paths.length} places, expected a handful`);
  });
});
