// R5: providers that echo the key back. OpenAI's real 401 says "Incorrect API key provided: sk-…";
// here a loopback server echoes the whole key (and a gateway echoes a key that does not even look
// like one). The user message, the log, events, results and CLI output must hold no trace of it.
// The stage-wide scan of everything else runs in the root hook of support/runContext.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { relConfig, assertSanitised, buildOrchestrator, expectFail, expectOk, scanResult, scanStore, CountedSimulator } from './support/pipeline';
import { ALL_KEYS, KEYS, LeakScanner, record, tempDir } from './support/runContext';
import { cliEnv, jsonLines, runCli } from './support/cli';
import { userTurn } from '../../src/core/types';

type Mode = { status: number; openai: (key: string) => string; anthropic: (key: string) => string };

const ECHO_401: Mode = {
  status: 401,
  openai: (key) =>
    JSON.stringify({ error: { message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }),
  anthropic: (key) => JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${key}` }, request_id: 'req_echo' }),
};
const ECHO_500: Mode = {
  status: 500,
  openai: (key) => JSON.stringify({ error: { message: `upstream rejected Authorization: Bearer ${key} (debug echo)`, type: 'server_error', param: null, code: null } }),
  anthropic: (key) => JSON.stringify({ type: 'error', error: { type: 'api_error', message: `gateway saw x-api-key=${key}` } }),
};

/** Answers every completion with the mode's error body, the caller's key pasted in. */
class EchoServer {
  mode: Mode = ECHO_401;
  requests = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        this.requests++;
        const anthropic = req.url?.startsWith('/v1/messages') === true;
        const auth = req.headers.authorization ?? '';
        const key = anthropic ? String(req.headers['x-api-key'] ?? '') : auth.replace(/^Bearer\s+/i, '');
        res.writeHead(this.mode.status, { 'content-type': 'application/json' });
        res.end(anthropic ? this.mode.anthropic(key) : this.mode.openai(key));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function assertNoKey(text: string, what: string): void {
  for (const key of ALL_KEYS) {
    assert.ok(!text.includes(key), `${what} holds a key`);
    assert.ok(!text.includes(key.slice(key.lastIndexOf('-') + 1)), `${what} holds the tail of a key`);
  }
}

describe('R5 secret leaks: a provider that echoes the key back', function () {
  this.timeout(30_000);
  const echo = new EchoServer();
  let base: string;
  let cases = 0;

  before(async () => {
    base = await echo.start();
  });
  after(async () => {
    await echo.stop();
    record('R5', { echoCases: cases });
  });

  it('the stage-wide scanner itself finds a planted key, a key tail, and nothing in scrubbed text', () => {
    const scanner = new LeakScanner();
    scanner.scan('planted:full', `Authorization: Bearer ${KEYS.openai}`);
    scanner.scan('planted:tail', `masked sk-***${KEYS.anthropic.slice(-32)}`);
    scanner.scan('planted:gateway', `x-api-key=${KEYS.gateway}`);
    scanner.scan('clean', 'Authorization: Bearer [REDACTED] sk-*** ***');
    assert.deepEqual(
      scanner.hits.map((h) => h.source),
      ['planted:full', 'planted:full', 'planted:tail', 'planted:gateway', 'planted:gateway'],
    );
  });

  const echoConfig = () => relConfig({ port: 0, openaiBaseUrl: `${base}/v1`, anthropicBaseUrl: base }, { routes: { code: ['oa'], writing: ['an'] } });

  for (const [provider, task, agent] of [
    ['openai', 'code', 'oa'],
    ['anthropic', 'writing', 'an'],
  ] as const) {
    for (const stream of [false, true]) {
      it(`${provider} 401 echoing the full key (${stream ? 'stream' : 'non-stream'}): AUTH, the key in no message, log, event or result`, async () => {
        echo.mode = ECHO_401;
        const { orchestrator, store, logLines, events } = buildOrchestrator(`r5-${provider}`, echoConfig());
        const f = expectFail(await orchestrator.run({ messages: [userTurn('implement a parser')], task, stream, onDelta: () => undefined }));
        scanResult(`r5-${provider}`, f);
        await scanStore(`r5-${provider}`, orchestrator, store);
        assert.equal(f.error.code, 'AUTH');
        assert.equal(f.error.status, 401);
        assert.match(f.error.message, new RegExp(`rejected the API key for agent "${agent}" — run "MAOF: Set API Key"`));
        assertSanitised(f.error.message);
        assertNoKey(f.error.message, 'the user message');
        assertNoKey(f.error.detail ?? '', 'the log detail, even before the logger scrubs it');
        assertNoKey(JSON.stringify(f), 'the result');
        assertNoKey(JSON.stringify(events), 'the events');
        // The provider's words did reach the log — with the key cut out.
        const echoed = logLines.find((l) => (provider === 'openai' ? l.includes('Incorrect API key provided:') : l.includes('invalid x-api-key')));
        assert.ok(echoed, `the provider's message is logged: ${logLines.join('\n')}`);
        assertNoKey(logLines.join('\n'), 'the log');
        cases++;
      });
    }

    it(`${provider} 500 echoing "Bearer <key>", retried: every retry's log line is clean`, async () => {
      echo.mode = ECHO_500;
      const before = echo.requests;
      const { orchestrator, logLines } = buildOrchestrator(`r5-${provider}-500`, echoConfig());
      const f = expectFail(await orchestrator.run({ messages: [userTurn('implement a parser')], task }));
      scanResult(`r5-${provider}-500`, f);
      assert.equal(f.error.code, 'UPSTREAM');
      assert.equal(echo.requests - before, 3, 'retried up to maxAttempts');
      assertSanitised(f.error.message);
      assertNoKey(f.error.detail ?? '', 'the log detail');
      assertNoKey(logLines.join('\n'), 'the log');
      cases++;
    });
  }

  it('the CLI binary, --verbose, with a gateway key that does not look like a key: scrubbed from stdout and stderr', async function () {
    this.timeout(60_000);
    echo.mode = ECHO_401;
    const dir = tempDir('r5-cli');
    const config = path.join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        agents: [{ id: 'gw', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: `${base}/v1`, apiKeyEnv: 'MAOF_GATEWAY_KEY', contextWindow: 100_000, requiresKey: true, pricing: { inputPerMTok: 1, outputPerMTok: 1 } }],
        routes: { code: ['gw'] },
        retry: { baseDelayMs: 1, maxDelayMs: 5 },
      }),
    );
    const env = cliEnv(dir, { MAOF_GATEWAY_KEY: KEYS.gateway, OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined });
    for (const json of [true, false]) {
      const r = await runCli('r5-cli', ['ask', '--verbose', ...(json ? ['--json'] : []), '--task', 'code', '--config', config, 'implement a parser'], env);
      assert.equal(r.code, 1);
      if (json) assert.equal((jsonLines(r.stdout)[0]?.error as { code: string }).code, 'AUTH');
      else assert.match(r.stderr, /rejected the API key for agent "gw".*\[AUTH\]/);
      assert.match(r.stderr, /Incorrect API key provided: /, 'the detail is logged with --verbose');
      assertNoKey(r.stdout, 'stdout');
      assertNoKey(r.stderr, 'stderr');
      cases++;
    }
  });

  it('a key pasted into a prompt is redacted before it is sent (the simulator echoes the prompt)', async () => {
    const sim = new CountedSimulator();
    const addr = await sim.start();
    const hex = (n: number): string => randomBytes(n / 2).toString('hex');
    // The suite's keys, and the all-lower-case shapes of two OpenAI-compatible providers MAOF names.
    const pasted = [KEYS.openai, KEYS.anthropic, `sk-${hex(32)}` /* DeepSeek */, `sk-or-v1-${hex(64)}` /* OpenRouter */];
    try {
      const { orchestrator } = buildOrchestrator('r5-prompt', relConfig(addr));
      for (const key of pasted) {
        const r = expectOk(await orchestrator.run({ messages: [userTurn(`use ${key}`)], task: 'code' }));
        scanResult('r5-prompt', r);
        assert.equal(r.text, 'Simulated gpt-4.1-mini reply: use [REDACTED]', `${key.slice(0, 12)}… was redacted before it left`);
        cases++;
      }
    } finally {
      await sim.stop();
    }
  });
});
