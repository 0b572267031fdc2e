// R4: bad input of every kind a user, a file or a webview can send — invalid settings and config
// files, malformed and oversized webview messages, binary and 50 MB files, empty keys, NUL bytes,
// garbage batch lines. Each is refused with a message naming what is wrong, nothing crashes, the
// good part of the input still runs, and the ledger and breakers persisted before stay intact.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvSecretSource } from '../../src/cli/envSecretSource';
import { parseConfig, type MaofConfig } from '../../src/core/config/schema';
import { ContextPruner, type ContextItem } from '../../src/core/context/contextPruner';
import { tokenizerFor } from '../../src/core/context/tokenizer';
import { Orchestrator } from '../../src/core/orchestrator';
import { MemoryStateStore } from '../../src/core/ports';
import { parseChatMessage } from '../../src/shared/chatProtocol';
import { parseDashboardMessage } from '../../src/shared/dashboardProtocol';

/** Each view parses with its own protocol: dashboard messages go to the dashboard's parser, the rest to the chat's. */
function parseWebviewMessage(raw: unknown): ReturnType<typeof parseChatMessage> | ReturnType<typeof parseDashboardMessage> {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return typeof type === 'string' && type.startsWith('dashboard/') ? parseDashboardMessage(raw) : parseChatMessage(raw);
}
import { bump, leaks, tempDir } from './support/runContext';
import { assertSanitised, buildOrchestrator, expectFail, expectOk, relConfig, scanResult, scannedLogger, simulatorPerSuite } from './support/pipeline';
import { cliEnv, jsonLines, runCli, runCliInProcess, writeCliConfig } from './support/cli';
import { readPersisted, type PersistedState } from './support/persistedState';
import { userTurn } from '../../src/core/types';

const refused = (): void => bump('R4', 'refused');

describe('R4 bad input: refused clearly, nothing crashes, no state lost', function () {
  this.timeout(30_000);
  const { sim, addr } = simulatorPerSuite();

  describe('settings and config objects (parseConfig, shared by VS Code settings and the CLI)', () => {
    interface Case {
      name: string;
      raw: unknown;
      issues: Array<[path: string, message: RegExp]>;
      check: (c: MaofConfig) => void;
    }
    const cases: Case[] = [
      {
        name: 'wrong types keep the other fields of the section',
        raw: { retry: { maxAttempts: 'three', baseDelayMs: 7, jitter: 'lots' }, cache: { enabled: 'yes', ttlMs: 5_000 } },
        issues: [
          ['retry.maxAttempts', /expected number.*using the default/],
          ['retry.jitter', /using the default/],
          ['cache.enabled', /expected boolean.*using the default/],
        ],
        check: (c) => {
          assert.equal(c.retry.maxAttempts, 3);
          assert.equal(c.retry.baseDelayMs, 7, 'the valid sibling is kept');
          assert.equal(c.retry.jitter, 0.5);
          assert.equal(c.cache.enabled, true);
          assert.equal(c.cache.ttlMs, 5_000);
        },
      },
      {
        name: 'negative limits',
        raw: { budget: { monthlyUsd: -5, dailyUsd: 2, perRequestUsd: -0.01 }, context: { maxContextTokens: -100, maxFileBytes: 0 }, breaker: { failureThreshold: 0, resetTimeoutMs: -1 } },
        issues: [
          ['budget.monthlyUsd', /(>=0|too small).*using the default/],
          ['budget.perRequestUsd', /using the default/],
          ['context.maxContextTokens', /using the default/],
          ['context.maxFileBytes', /using the default/],
          ['breaker.failureThreshold', /using the default/],
          ['breaker.resetTimeoutMs', /using the default/],
        ],
        check: (c) => {
          assert.equal(c.budget.monthlyUsd, undefined, 'no limit rather than a negative one');
          assert.equal(c.budget.dailyUsd, 2);
          assert.equal(c.context.maxContextTokens, 32_000);
          assert.equal(c.breaker.failureThreshold, 5);
        },
      },
      {
        name: 'duplicate agent ids',
        raw: {
          agents: [
            { id: 'dup', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 1_000 },
            { id: 'dup', provider: 'anthropic', model: 'claude-haiku-4-5', contextWindow: 2_000 },
          ],
          routes: { code: ['dup'] },
        },
        issues: [['agents[1].id', /duplicate agent id "dup"; the later one is ignored/]],
        check: (c) => {
          const dups = c.agents.filter((a) => a.id === 'dup');
          assert.equal(dups.length, 1);
          assert.equal(dups[0]?.provider, 'openai', 'the first one wins');
          assert.deepEqual(c.routes.code, ['dup']);
        },
      },
      {
        name: 'unknown agents in routes',
        raw: { routes: { code: ['ghost', 'gpt-4.1', 'ghost-2'], writing: ['nobody'], analysis: 'claude-sonnet' } },
        issues: [
          ['routes.code', /unknown agent "ghost" removed from the route/],
          ['routes.code', /unknown agent "ghost-2" removed/],
          ['routes.writing', /no known agent left; using the default route/],
          ['routes.analysis', /expected a list of agent ids/],
        ],
        check: (c) => {
          assert.deepEqual(c.routes.code, ['gpt-4.1']);
          assert.deepEqual(c.routes.writing, defaults().routes.writing);
          assert.deepEqual(c.routes.analysis, defaults().routes.analysis);
        },
      },
      {
        name: 'agents with wrong types, bad providers and non-positive windows',
        raw: {
          agents: [
            { id: 'g', provider: 'gemini', model: 'x', contextWindow: 1 },
            { id: 'neg', provider: 'openai', model: 'gpt-4.1', contextWindow: -5 },
            { id: 'bad id with spaces', provider: 'openai', model: 'gpt-4.1', contextWindow: 10 },
            { id: 'url', provider: 'openai', model: 'm', contextWindow: 10, baseUrl: 'file:///etc/passwd' },
            'not an agent',
            { id: 'fine', provider: 'openai', model: 'gpt-4.1-mini', contextWindow: 8_000 },
          ],
        },
        issues: [
          ['agents[0].provider', /agent \("g"\) ignored/],
          ['agents[1].contextWindow', /agent \("neg"\) ignored/],
          ['agents[2].id', /letters, digits/],
          ['agents[3].baseUrl', /ignored/],
          ['agents[4]', /ignored/],
        ],
        check: (c) => {
          assert.ok(c.agents.some((a) => a.id === 'fine'), 'the valid agent is kept');
          assert.ok(!c.agents.some((a) => ['g', 'neg', 'url'].includes(a.id)));
          assert.ok(c.agents.some((a) => a.id === 'gpt-4.1'), 'built-in agents stay');
        },
      },
      {
        name: 'sections of the wrong shape',
        raw: { agents: 'all of them', routes: ['code'], tasks: 7, retry: 'fast', budget: [1, 2], classifierAgent: 'ghost' },
        issues: [
          ['agents', /expected a list of agents/],
          ['routes', /expected an object/],
          ['tasks', /expected an object of task kinds/],
          ['retry', /expected an object; using the defaults/],
          ['budget', /expected an object; using the defaults/],
          ['classifierAgent', /not a known agent id/],
        ],
        check: (c) => assert.deepEqual(c.routes, defaults().routes),
      },
      { name: 'a root that is not an object', raw: 'hello', issues: [['(root)', /expected an object/]], check: (c) => assert.deepEqual(c, defaults()) },
      { name: 'a root that is a list', raw: [1, 2, 3], issues: [['(root)', /expected an object/]], check: (c) => assert.deepEqual(c, defaults()) },
      {
        name: 'task names that are not words, and "auto"',
        raw: { tasks: { 'Bad Name': {}, auto: {}, ok: { keywords: 'nope' } } },
        issues: [
          ['tasks.Bad Name', /lower-case words/],
          ['tasks.auto', /lower-case words/],
          ['tasks.ok', /ignored/],
        ],
        check: (c) => assert.ok(!('Bad Name' in c.tasks) && !('auto' in c.tasks)),
      },
      {
        name: 'a deeply nested value and a __proto__ key',
        raw: JSON.parse(`{"__proto__": {"polluted": true}, "retry": {"maxAttempts": ${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}}`) as unknown,
        issues: [['retry.maxAttempts', /using the default/]],
        check: (c) => {
          assert.equal(c.retry.maxAttempts, 3);
          assert.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing was polluted');
        },
      },
    ];
    const defaults = (): MaofConfig => parseConfig({}).config;

    for (const c of cases) {
      it(`${c.name}: every bad field is named, the rest kept, defaults used`, () => {
        let parsed: ReturnType<typeof parseConfig> | undefined;
        assert.doesNotThrow(() => (parsed = parseConfig(c.raw)));
        const { config, issues } = parsed!;
        for (const [p, m] of c.issues) {
          assert.ok(
            issues.some((i) => i.path === p && m.test(i.message)),
            `an issue for ${p} matching ${String(m)}; got ${JSON.stringify(issues)}`,
          );
        }
        c.check(config);
        // The salvaged config is usable as it is.
        assert.doesNotThrow(() => new Orchestrator({ config, secrets: { get: () => Promise.resolve(undefined) }, store: new MemoryStateStore() }));
        for (const i of issues) leaks.scan('config-issue', `${i.path}: ${i.message}`);
        refused();
      });
    }
  });

  describe('webview messages (parseWebviewMessage)', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`) as unknown;
    const cases: Array<[name: string, raw: unknown, reason: RegExp]> = [
      ['a string', 'not an object', /message is not an object \(got "not an object"\)/],
      ['null', null, /not an object \(got null\)/],
      ['a number', 42, /not an object \(got number\)/],
      ['a list', [{ type: 'chat/send' }], /not an object \(got an array\)/],
      ['no type', { prompt: 'hi' }, /no "type" string/],
      ['an unknown type', { type: 'chat/explode' }, /unknown message type "chat\/explode"/],
      ['a 100 KB type', { type: 'x'.repeat(100_000) }, /unknown message type "x{60}…"/],
      ['missing fields', { type: 'chat/send' }, /chat\/send: sessionId is missing/],
      ['a prompt of the wrong type', { type: 'chat/send', sessionId: 's', prompt: 42, agentId: 'auto', includeContext: false }, /prompt must be a string \(got number\)/],
      ['a nested object as prompt', { type: 'chat/send', sessionId: 's', prompt: deep, agentId: 'auto', includeContext: false }, /prompt must be a string \(got an object\)/],
      ['a whitespace prompt', { type: 'chat/send', sessionId: 's', prompt: ' \n\t ', agentId: 'auto', includeContext: false }, /prompt is empty/],
      ['a 200,001-character prompt', { type: 'chat/send', sessionId: 's', prompt: 'y'.repeat(200_001), agentId: 'auto', includeContext: false }, /prompt is too long \(200,001 characters; at most 200,000\)/],
      ['a 50 MB prompt', { type: 'chat/send', sessionId: 's', prompt: 'z'.repeat(50 * 1024 * 1024), agentId: 'auto', includeContext: false }, /prompt is too long \(52,428,800 characters/],
      ['a boolean given as text', { type: 'chat/send', sessionId: 's', prompt: 'hi', agentId: 'auto', includeContext: 'yes' }, /includeContext must be true or false \(got "yes"\)/],
      ['an oversized code block', { type: 'chat/insert', code: 'x'.repeat(2 * 1024 * 1024 + 1) }, /code is too long/],
      ['a message id of the wrong type', { type: 'chat/stop', messageId: 42 }, /messageId must be a string \(got number\)/],
      ['an action that is not offered', { type: 'chat/action', action: 'runShell' }, /action must be one of setApiKey, resetBreakers, openSettings, showDashboard/],
      ['an oversized agent id', { type: 'dashboard/resetBreaker', agentId: 'a'.repeat(201) }, /agentId is too long \(201 characters; at most 200\)/],
      ['an empty agent id', { type: 'chat/setAgent', agentId: '' }, /agentId is empty/],
    ];
    for (const [name, raw, reason] of cases) {
      it(`refuses ${name} with a reason`, () => {
        let r: ReturnType<typeof parseWebviewMessage> | undefined;
        assert.doesNotThrow(() => (r = parseWebviewMessage(raw)));
        assert.ok(r && !r.ok, 'refused');
        if (r && !r.ok) {
          assert.match(r.error, reason);
          assert.ok(r.error.length < 400, 'the reason stays short whatever the input');
          leaks.scan('webview-reason', r.error);
        }
        refused();
      });
    }
    it('drops unknown keys (no prototype pollution) from an otherwise valid message', () => {
      const r = parseWebviewMessage(JSON.parse('{"type":"chat/clear","__proto__":{"polluted":true},"extra":"x"}'));
      assert.ok(r.ok);
      if (r.ok) assert.deepEqual(Object.keys(r.message), ['type']);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });

  describe('binary and 50 MB files as context', () => {
    const tk = tokenizerFor('openai', 'gpt-4.1-mini');
    const line = 'export function add(a: number, b: number): number { return a + b; } // filler line\n';
    let big: string;
    before(() => {
      big = line.repeat(Math.ceil((50 * 1024 * 1024) / line.length));
    });
    const binaryBytes = (): string => randomBytes(256 * 1024).toString('latin1');
    const png = (): string => `\x89PNG\r\n\x1a\n${randomBytes(64 * 1024).toString('utf8')}`;

    it('drops binary files and a 50 MB tab, with a reason each, and stays within the budget', function () {
      this.timeout(60_000);
      const report = new ContextPruner().prune(
        [
          { id: 'bin', kind: 'openTab', label: 'build/app.bin', text: binaryBytes() },
          { id: 'png', kind: 'visibleEditor', label: 'logo.png', text: png() },
          { id: 'huge', kind: 'openTab', label: 'data/huge.ts', text: big },
          { id: 'env', kind: 'visibleEditor', label: '.env', text: `OPENAI_API_KEY=${'sk-proj-' + 'q'.repeat(40)}` },
          { id: 'ok', kind: 'openTab', label: 'src/small.ts', text: 'export const small = 1;\n' },
        ],
        { budgetTokens: 8_000, tokenizer: tk, maxFileBytes: 1_000_000 },
      );
      const reasons = Object.fromEntries(report.dropped.map((d) => [d.id, d.reason]));
      assert.deepEqual(reasons, { bin: 'binary', png: 'binary', huge: 'too-large', env: 'secret-file' });
      assert.deepEqual(
        report.kept.map((k) => k.id),
        ['ok'],
      );
      assert.ok(report.usedTokens <= report.budgetTokens);
      const huge = report.dropped.find((d) => d.id === 'huge');
      assert.ok(huge && huge.estimated && huge.tokens > 1_000_000, 'the report says how big it was (estimated, never counted)');
      refused();
    });

    it('cuts a 50 MB active file around the cursor to fit, and says so', function () {
      this.timeout(60_000);
      const marker = 'const CURSOR_IS_HERE = true;\n';
      const half = big.length / 2 - ((big.length / 2) % line.length);
      const text = `${big.slice(0, half)}${marker}${big.slice(half)}`;
      const report = new ContextPruner().prune([{ id: 'act', kind: 'activeFile', label: 'src/huge.ts', text, cursorOffset: half + 5 }], { budgetTokens: 4_000, tokenizer: tk });
      assert.equal(report.kept.length, 1);
      assert.ok(report.kept[0]?.truncated);
      assert.ok(report.kept[0]?.text.includes('CURSOR_IS_HERE'), 'the text around the cursor is kept');
      assert.ok(report.usedTokens <= 4_000);
      assert.equal(report.truncated[0]?.id, 'act');
      assert.ok((report.truncated[0]?.fromTokens ?? 0) > 1_000_000);
      refused();
    });

    it('a request with binary and 50 MB context items is answered, sending only what fits', async function () {
      this.timeout(60_000);
      const context: ContextItem[] = [
        { id: 'sel', kind: 'selection', label: 'selection', text: big },
        { id: 'bin', kind: 'openTab', label: 'a.out', text: binaryBytes() },
        { id: 'tab', kind: 'openTab', label: 'big.log', text: big },
      ];
      const { orchestrator, events } = buildOrchestrator('r4-context', relConfig(addr(), { context: { maxContextTokens: 6_000 } }));
      const r = expectOk(await orchestrator.run({ messages: [userTurn('explain the selection')], task: 'code', context }));
      scanResult('r4-context', r);
      await sim.quiesce();
      assert.equal(sim.tally().requests, 1);
      assert.ok(sim.tally().inputTokens < 20_000, `the request stayed small (${sim.tally().inputTokens} input tokens billed)`);
      assert.deepEqual(r.pruned?.truncated.map((t) => t.id), ['sel']);
      assert.deepEqual(
        r.pruned?.dropped.map((d) => [d.id, d.reason]),
        [
          ['bin', 'binary'],
          ['tab', 'too-large'],
        ],
      );
      const pruned = events.find((e) => e.type === 'context.pruned');
      assert.ok(pruned && pruned.type === 'context.pruned' && pruned.dropped.length === 2, 'the dashboard is told what was left out');
      refused();
    });
  });

  describe('keys and prompts', () => {
    it('treats empty and whitespace keys as missing: AUTH naming the fix, nothing sent', async () => {
      const source = new EnvSecretSource([], { OPENAI_API_KEY: '   ', ANTHROPIC_API_KEY: '\t\n ' });
      assert.equal(await source.get('provider:openai'), undefined);
      assert.equal(await source.get('provider:anthropic'), undefined);
      assert.deepEqual(source.knownValues(), []);
      const { orchestrator } = buildOrchestrator('r4-keys', relConfig(addr()), { secrets: { 'provider:openai': '   ', 'provider:anthropic': '' } });
      const f = expectFail(await orchestrator.run({ messages: [userTurn('implement a queue')], task: 'code' }));
      scanResult('r4-keys', f);
      assert.equal(f.error.code, 'AUTH');
      assert.match(f.error.message, /No (OpenAI|Anthropic) API key is set for agent "(oa|an)" — run "MAOF: Set API Key"/);
      assertSanitised(f.error.message);
      assert.deepEqual(
        f.attempts.map((a) => [a.agent, a.outcome]),
        [
          ['oa', 'AUTH'],
          ['an', 'AUTH'],
        ],
      );
      assert.equal(sim.tally().requests, 0, 'nothing was sent without a key');
      refused();
    });

    it('refuses prompts with NUL bytes, empty prompts and 2 M-character prompts before sending anything', async () => {
      const { orchestrator } = buildOrchestrator('r4-prompts', relConfig(addr()));
      const cases: Array<[string, string, RegExp]> = [
        ['abc\u0000def', 'BAD_REQUEST', /binary data \(NUL bytes\) — paste text only/],
        ['\u0000', 'BAD_REQUEST', /NUL bytes/],
        [`${'x'.repeat(1_000)}\u0000`, 'BAD_REQUEST', /NUL bytes/],
        ['', 'BAD_REQUEST', /The prompt is empty/],
        [' \n\t', 'BAD_REQUEST', /The prompt is empty/],
        ['w'.repeat(2_000_001), 'CONTEXT_TOO_LARGE', /over 2 million characters/],
      ];
      for (const [prompt, code, message] of cases) {
        const f = expectFail(await orchestrator.run({ messages: [userTurn(prompt)], task: 'code' }));
        scanResult('r4-prompts', f);
        assert.equal(f.error.code, code);
        assert.match(f.error.message, message);
        assert.deepEqual(f.attempts, []);
        refused();
      }
      assert.equal(sim.tally().requests, 0);
      assert.equal(orchestrator.ledger.summary().reservedUsd, 0);
    });
  });

  describe('the CLI with bad files and flags, over persisted state that must survive', () => {
    let dir: string;
    let stateFile: string;
    let configFile: string;
    let baseline: PersistedState;
    const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => cliEnv(dir, extra);

    /** The ledger and breakers written before are still there (spend may only have grown). */
    const assertStateIntact = (): PersistedState => {
      const now = readPersisted(stateFile);
      assert.deepEqual(now.warnings, [], 'the ledger loads cleanly');
      assert.ok(now.monthUsd >= baseline.monthUsd - 1e-12, `spend kept (${now.monthUsd} ≥ ${baseline.monthUsd})`);
      assert.ok(now.requests >= baseline.requests);
      assert.equal(now.breakers.oa, 'open', 'the open breaker is still open');
      return now;
    };

    before(async function () {
      this.timeout(60_000);
      dir = tempDir('bad-input-cli');
      stateFile = path.join(dir, 'state.json');
      configFile = writeCliConfig(path.join(dir, 'config.json'), relConfig(addr(), { breaker: { failureThreshold: 2, resetTimeoutMs: 3_600_000 } }));
      // Some spend, and an open breaker for "oa", persisted by two ordinary runs.
      const first = await runCliInProcess('r4-seed-1', ['ask', '--json', '--task', 'code', '--config', configFile, 'seed one'], env());
      assert.equal(first.code, 0, first.stderr);
      sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 500 }, times: 10 }]);
      const second = await runCliInProcess('r4-seed-2', ['ask', '--json', '--task', 'code', '--config', configFile, 'seed two'], env());
      assert.equal(second.code, 0, second.stderr);
      sim.plan([]);
      baseline = readPersisted(stateFile);
      assert.equal(baseline.breakers.oa, 'open');
      assert.ok(baseline.monthUsd > 0);
    });

    it('a config file that is not valid JSON: exit 2, a message naming the file, state intact', async () => {
      const broken = path.join(dir, 'broken.json');
      writeFileSync(broken, '{ "agents": [ { "id": "x", ');
      const r = await runCliInProcess('r4-broken', ['ask', '--config', broken, 'hello'], env());
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^maof: Config file .*broken\.json is not valid JSON \(.+\) — fix it or pass another file with --config\.\n$/);
      assert.equal(r.stdout, '');
      assertStateIntact();
      refused();
    });

    it('the same through the built binary: exit 2, no stack trace', async function () {
      this.timeout(60_000);
      const broken = path.join(dir, 'broken-bin.json');
      writeFileSync(broken, '{"retry": {"maxAttempts": 3,,}}');
      const r = await runCli('r4-broken-bin', ['ask', '--config', broken, 'hello'], env());
      assert.equal(r.code, 2);
      assert.match(r.stderr, /is not valid JSON/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assertStateIntact();
      refused();
    });

    it('a missing config file: exit 2, "check the path"', async () => {
      const r = await runCliInProcess('r4-missing', ['ask', '--config', path.join(dir, 'nope', 'missing.json'), 'hello'], env());
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Cannot read config file .*missing\.json — check the path given to --config/);
      assertStateIntact();
      refused();
    });

    it('a 2 MB config file: exit 2, "over 1 MB"', async () => {
      const huge = path.join(dir, 'huge.json');
      writeFileSync(huge, JSON.stringify({ tasks: { code: { description: 'd'.repeat(2 * 1024 * 1024) } } }));
      const r = await runCliInProcess('r4-huge', ['ask', '--config', huge, 'hello'], env());
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Config file .*huge\.json is over 1 MB/);
      assertStateIntact();
      refused();
    });

    it('a config with invalid fields: warns naming each field, still answers with the rest', async () => {
      const partly = path.join(dir, 'partly.json');
      const good = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(partly, JSON.stringify({ ...good, routes: { code: ['ghost', 'oa', 'an'] }, retry: { ...(good.retry as object), maxAttempts: 'many' }, budget: { monthlyUsd: -1 } }));
      const r = await runCliInProcess('r4-partly', ['ask', '--json', '--task', 'code', '--config', partly, 'still works'], env());
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /routes\.code: unknown agent "ghost" removed from the route/);
      assert.match(r.stderr, /retry\.maxAttempts: .*using the default/);
      assert.match(r.stderr, /budget\.monthlyUsd: .*using the default/);
      const [line] = jsonLines(r.stdout);
      assert.equal(line?.ok, true);
      assert.equal(line?.agent, 'an', 'the open breaker (restored from disk) still skips "oa"');
      assertStateIntact();
      refused();
    });

    it('whitespace keys in the environment: AUTH, nothing sent, exit 1', async () => {
      const r = await runCliInProcess('r4-blank-keys', ['ask', '--json', '--task', 'code', '--config', configFile, 'hello'], env({ OPENAI_API_KEY: '   ', ANTHROPIC_API_KEY: '\t\n' }));
      assert.equal(r.code, 1);
      const [line] = jsonLines(r.stdout);
      const error = line?.error as { code: string; message: string };
      assert.equal(error.code, 'AUTH');
      assert.match(error.message, /No (OpenAI|Anthropic) API key is set for agent "(oa|an)"/);
      assert.match(error.message, /Set API Key|ANTHROPIC_API_KEY|OPENAI_API_KEY/, 'names the fix');
      assert.equal(sim.tally().requests, 0);
      assertStateIntact();
      refused();
    });

    it('a prompt with NUL bytes: BAD_REQUEST, nothing sent', async () => {
      const r = await runCliInProcess('r4-nul', ['ask', '--json', '--task', 'code', '--config', configFile, 'abc\u0000def'], env());
      assert.equal(r.code, 1);
      const [line] = jsonLines(r.stdout);
      assert.equal((line?.error as { code: string }).code, 'BAD_REQUEST');
      assert.equal(sim.tally().requests, 0);
      assertStateIntact();
      refused();
    });

    it('a batch file with garbage lines: an error per bad line, the good lines still answered', async function () {
      this.timeout(60_000);
      let garbage = randomBytes(300).toString('latin1').replace(/[\r\n]/g, '?');
      if (garbage.trim() === '') garbage = '\u0001\u0002';
      const lines = [
        JSON.stringify({ prompt: 'good-1', task: 'code' }),
        'this is not json',
        JSON.stringify({ task: 'code' }),
        garbage,
        JSON.stringify({ prompt: 'abc\u0000def', task: 'code' }),
        JSON.stringify({ prompt: 42 }),
        '[1, 2, 3]',
        JSON.stringify({ prompt: 'good-2', task: 'writing' }),
        JSON.stringify({ prompt: 'both', task: 'code', agent: 'oa' }),
        '{"prompt": "unterminated',
        JSON.stringify({ prompt: 'good-3', task: 'code' }),
      ];
      const file = path.join(dir, 'mixed.jsonl');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const r = await runCliInProcess('r4-batch', ['batch', file, '--json', '--concurrency', '4', '--config', configFile], env());
      assert.equal(r.code, 1, 'some lines failed');
      const out = jsonLines(r.stdout);
      assert.equal(out.length, lines.length, 'one result per line, none lost');
      const summary = out.map((o, i) => {
        const error = o.error as { code: string; message: string } | undefined;
        if (!o.ok) assertSanitised(error?.message ?? '');
        return o.ok ? `ok ${String(o.text).replace(/^Simulated \S+ reply: /, '')}` : `${error?.code} ${error?.message.startsWith(`Line ${i + 1}`) ? `line ${i + 1}` : error?.message}`;
      });
      assert.deepEqual(summary, [
        'ok good-1',
        'BAD_REQUEST line 2',
        'BAD_REQUEST line 3',
        'BAD_REQUEST line 4',
        'BAD_REQUEST The prompt contains binary data (NUL bytes) — paste text only.',
        'BAD_REQUEST line 6',
        'BAD_REQUEST line 7',
        'ok good-2',
        'BAD_REQUEST line 9',
        'BAD_REQUEST line 10',
        'ok good-3',
      ]);
      await sim.quiesce();
      assert.equal(sim.tally().requests, 3, 'only the good lines were sent (the open breaker skips "oa" without a request)');
      const now = assertStateIntact();
      assert.ok(now.monthUsd > baseline.monthUsd, 'and their cost was added');
      bump('R4', 'refused', 8);
    });

    it('bad flags: exit 2 with usage, nothing run', async () => {
      for (const args of [
        ['batch', path.join(dir, 'mixed.jsonl'), '--concurrency', '0'],
        ['batch', path.join(dir, 'mixed.jsonl'), '--concurrency', 'lots'],
        ['explode'],
        ['ask', '--task', 'code', '--agent', 'oa', 'both'],
        ['ask', '--bogus-flag', 'x'],
      ]) {
        const r = await runCliInProcess('r4-flags', [...args, '--config', configFile], env());
        assert.equal(r.code, 2, `${args.join(' ')} → exit 2`);
        assert.match(r.stderr, /^maof: /);
        refused();
      }
      assert.equal(sim.tally().requests, 0);
      assertStateIntact();
    });

    it('a damaged ledger database is left as it is, never overwritten, and the CLI says what to do', async () => {
      const other = tempDir('bad-state');
      const garbage = '{"maof.ledger.v1": {"v": 1, "month": "2026-'.repeat(200);
      writeFileSync(path.join(other, 'maof.db'), garbage);
      const r = await runCliInProcess('r4-bad-state', ['ask', '--json', '--task', 'code', '--config', configFile, 'after a bad state file'], cliEnv(other));
      assert.match(r.stderr, /maof\.db fails SQLite's integrity check: SQLITE_NOTADB\)\. It was left as it is/);
      assert.match(r.stderr, /restore the file from a backup and run maof again, or move .*maof\.db away to start from \$0/);
      // Under a budget paid requests are refused until the file is fixed; either way a clear answer.
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ok?: boolean; error?: { code: string } };
      assert.ok(out.ok === true || out.error?.code === 'BUDGET_EXCEEDED', r.stdout);
      assert.equal(readFileSync(path.join(other, 'maof.db'), 'utf8'), garbage, 'the damaged bytes are never written over');
      assert.deepEqual(readdirSync(other).filter((f) => f.startsWith('maof.db.corrupt-')), [], 'nothing moved without the user');
      refused();
    });

    it('a redacting logger never throws on odd values', () => {
      const logger = scannedLogger('r4-logger');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.doesNotThrow(() => logger.warn('odd', cyclic, undefined, null, Symbol('s'), 10n, new Error('boom')));
    });
  });
});
