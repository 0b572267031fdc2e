// MAOF as a language-model provider, reached the way another extension (Cline, Roo Code, Copilot's
// bring-your-own-key) reaches it: only through `vscode.lm` — list the models, send requests with
// and without tools to each provider through the simulator, answer a tool call, fall back from a
// dead primary, cancel, count tokens. The test API is used only to point MAOF at the simulator.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { clearKeys, maofApi, setSettings, simulatorSettings, simulatorSuite, storeKeys, TEST_KEYS, waitFor } from './helpers';

async function maofModel(id: string): Promise<vscode.LanguageModelChat> {
  let found: vscode.LanguageModelChat | undefined;
  await waitFor(`MAOF's model "${id}" in vscode.lm`, async () => {
    found = (await vscode.lm.selectChatModels({ vendor: 'maof', id }))[0];
    return found !== undefined;
  });
  return found!;
}

interface Collected {
  text: string;
  calls: vscode.LanguageModelToolCallPart[];
}

async function collect(response: vscode.LanguageModelChatResponse): Promise<Collected> {
  const out: Collected = { text: '', calls: [] };
  for await (const part of response.stream) {
    if (part instanceof vscode.LanguageModelTextPart) out.text += part.value;
    else if (part instanceof vscode.LanguageModelToolCallPart) out.calls.push(part);
  }
  return out;
}

const READ_FILE: vscode.LanguageModelChatTool = {
  name: 'read_file',
  description: 'Reads a file of the workspace',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

describe('MAOF through vscode.lm (as another extension uses it)', function () {
  this.timeout(60_000);
  const suite = simulatorSuite();
  const { sim } = suite;
  beforeEach(() => sim.reset());

  it('lists auto, one model per task route and one per agent, with names that say what they are', async () => {
    await maofModel('agent:sim-claude');
    const models = await vscode.lm.selectChatModels({ vendor: 'maof' });
    const ids = models.map((m) => m.id).sort();
    for (const id of ['auto', 'code', 'writing', 'analysis', 'agent:sim-gpt', 'agent:sim-claude']) assert.ok(ids.includes(id), `model ${id} in ${ids.join(', ')}`);
    const code = models.find((m) => m.id === 'code')!;
    assert.equal(code.name, 'MAOF Code');
    assert.equal(code.maxInputTokens, 128_000 - 1024, 'the smallest window of the agents that may answer, its answer kept free');
    assert.equal(code.family, 'gpt-4.1-mini', 'the family of the agent that answers first');
    const auto = models.find((m) => m.id === 'auto')!;
    assert.equal(auto.name, 'MAOF');
    assert.ok(models.every((m) => m.name === 'MAOF' || m.name.startsWith('MAOF ')), 'every name starts with MAOF, auto first');
  });

  it('metadata follows a settings change (window, family, tools), and VS Code is told', async () => {
    const { address } = suite;
    const base = simulatorSettings(address());
    const agents = base.agents as Record<string, unknown>[];
    const toolsOf = (m: vscode.LanguageModelChat): boolean | undefined => (m as unknown as { capabilities?: { supportsToolCalling?: boolean } }).capabilities?.supportsToolCalling;
    assert.equal(toolsOf(await maofModel('code')), true, 'both agents call tools');
    // vscode.lm's own onDidChangeChatModels fires only when model ids come or go (seen in VS Code
    // 1.139), and selectChatModels asks the provider afresh: neither shows that the Chat's picker
    // was told. The provider's own count of announcements (a test hook) does.
    const announcedBefore = (await maofApi()).languageModels?.announcements ?? 0;
    try {
      // The code route's primary becomes a small local model that cannot call tools.
      const small = { ...agents[0], contextWindow: 16_000, toolCalling: false, family: 'llama-test' };
      await setSettings({ agents: [small, agents[1]] });
      let code: vscode.LanguageModelChat | undefined;
      await waitFor('the code model to show the new window, family and tools', async () => {
        code = (await vscode.lm.selectChatModels({ vendor: 'maof', id: 'code' }))[0];
        return code?.maxInputTokens === 16_000 - 1024;
      });
      assert.equal(code!.family, 'llama-test');
      assert.equal(toolsOf(code!), false, 'a route with an agent that cannot call tools does not claim tool calling');
      assert.equal(toolsOf((await vscode.lm.selectChatModels({ vendor: 'maof', id: 'agent:sim-claude' }))[0]), true, 'the agent that can still says so');
      await waitFor('VS Code to be told the models changed', async () => ((await maofApi()).languageModels?.announcements ?? 0) > announcedBefore);
    } finally {
      await setSettings({ agents });
      await waitFor('the models as before', async () => (await vscode.lm.selectChatModels({ vendor: 'maof', id: 'code' }))[0]?.maxInputTokens === 128_000 - 1024);
    }
  });

  it('answers each provider with streamed text, and the request shows in the ledger', async () => {
    const api = await maofApi();
    for (const [id, model] of [['agent:sim-gpt', 'gpt-4.1-mini'], ['agent:sim-claude', 'claude-haiku-4-5']] as const) {
      const before = api.orchestrator.ledger.summary();
      const response = await (await maofModel(id)).sendRequest([vscode.LanguageModelChatMessage.User('Say hello to the extension')], {});
      const got = await collect(response);
      assert.match(got.text, new RegExp(`^Simulated ${model.replace(/\./g, '\\.')} reply: Say hello to the extension`));
      const after = api.orchestrator.ledger.summary();
      assert.equal(after.requests, before.requests + 1, 'billed once');
      const source = 'VS Code Language Model API';
      assert.ok((after.bySource[source] ?? 0) > (before.bySource[source] ?? 0), 'the spend is the Language Model API\'s in the dashboard');
    }
  });

  it('offers a "utility" model for VS Code\'s utility flows, whose spend shows under "VS Code utility"', async () => {
    const api = await maofApi();
    const utility = await maofModel('utility');
    assert.equal(utility.name, 'MAOF Utility');
    const before = api.orchestrator.ledger.summary();
    const got = await collect(await utility.sendRequest([vscode.LanguageModelChatMessage.User('Write a short title for this chat')], {}));
    assert.match(got.text, /^Simulated .* reply: Write a short title for this chat/);
    const after = api.orchestrator.ledger.summary();
    const source = 'VS Code utility';
    assert.ok((after.bySource[source] ?? 0) > (before.bySource[source] ?? 0), `the spend is under "${source}": ${JSON.stringify(after.bySource)}`);
    assert.equal(after.bySource['VS Code Language Model API'] ?? 0, before.bySource['VS Code Language Model API'] ?? 0, 'and not under the Language Model API');
  });

  for (const id of ['agent:sim-gpt', 'agent:sim-claude']) {
    it(`${id}: relays a tool call with its parsed input, then answers from the tool's result`, async () => {
      const model = await maofModel(id);
      const ask = vscode.LanguageModelChatMessage.User('Open it [[tool:read_file {"path":"src/math.ts"}]]');
      const first = await collect(await model.sendRequest([ask], { tools: [READ_FILE] }));
      assert.equal(first.calls.length, 1, `one tool call (text: "${first.text}")`);
      const call = first.calls[0];
      assert.equal(call.name, 'read_file');
      assert.deepEqual(call.input, { path: 'src/math.ts' });
      assert.ok(call.callId);
      const second = await collect(await model.sendRequest([
        ask,
        vscode.LanguageModelChatMessage.Assistant([new vscode.LanguageModelToolCallPart(call.callId, call.name, call.input)]),
        vscode.LanguageModelChatMessage.User([new vscode.LanguageModelToolResultPart(call.callId, [new vscode.LanguageModelTextPart('export const add = 1;')])]),
      ], { tools: [READ_FILE] }));
      assert.match(second.text, /the tool returned: export const add = 1;/);
      assert.deepEqual(second.calls, []);
    });
  }

  it('honours toolMode Required', async () => {
    const model = await maofModel('agent:sim-claude');
    const got = await collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('anything')], { tools: [READ_FILE], toolMode: vscode.LanguageModelChatToolMode.Required }));
    assert.equal(got.calls[0]?.name, 'read_file');
  });

  it('falls back from a dead primary to the other provider, tool conversation intact', async () => {
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'status', status: 503 }, times: 10 }]);
    const model = await maofModel('code');
    const got = await collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('Fix it [[tool:read_file {"path":"a.ts"}]]')], { tools: [READ_FILE] }));
    assert.equal(got.calls[0]?.name, 'read_file', 'the fallback (Anthropic) relayed the call');
    assert.match(got.calls[0].callId, /^toolu_/);
  });

  it('a silent primary (issue 18): the fallback\'s answer arrives once, within the first-token deadline', async function () {
    this.timeout(90_000);
    // Default deadlines: a cold-start first-token deadline of 12 s (a learned one is shorter here).
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'hang' }, times: 1 }]);
    const model = await maofModel('code');
    const started = Date.now();
    const got = await collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('Explain the silent primary')], {}));
    const elapsed = Date.now() - started;
    assert.equal(got.text.match(/Simulated claude-haiku-4-5 reply: Explain the silent primary/g)?.length, 1, `the fallback's answer, once: "${got.text}"`);
    assert.doesNotMatch(got.text, /gpt-4\.1-mini/, 'nothing of the silent primary');
    assert.ok(elapsed <= 12_000 + 5_000, `the answer took ${elapsed} ms`);
    const primary = sim.requestLog().find((e) => e.provider === 'openai');
    assert.equal(primary?.aborted, true, 'the silent primary\'s request was aborted');
  });

  it('a failure the user can fix is an error that names the fix, not a stack trace', async () => {
    const api = await maofApi();
    await clearKeys(api);
    try {
      // The Anthropic-format agent needs a key (the loopback OpenAI one would answer without).
      const model = await maofModel('agent:sim-claude');
      await assert.rejects(
        (async () => collect(await model.sendRequest([vscode.LanguageModelChatMessage.User('hello')], {})))(),
        // Nor in the stack VS Code carries across to the caller (the Chat prints it after the message).
        (err: Error) => /MAOF: .*Set API Key/.test(err.message) && !/at .*\.js/.test(err.message) && !/dist[\\/]host\.js/.test(err.stack ?? ''),
      );
    } finally {
      await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
    }
  });

  it('cancels: the provider call is closed and the answer stops', async () => {
    const model = await maofModel('agent:sim-gpt');
    sim.plan([{ match: { provider: 'openai' }, fault: { kind: 'slow_stream', chunkDelayMs: 200 } }]);
    const source = new vscode.CancellationTokenSource();
    const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('a long answer [[words:400]]')], {}, source.token);
    let text = '';
    const reading = (async () => {
      try {
        for await (const part of response.text) {
          text += part;
          if (text.length > 20) source.cancel();
        }
      } catch {
        // a cancelled stream may end with an error
      }
    })();
    await reading;
    await waitFor('the simulator to see the request aborted', () => sim.tally().aborted >= 1);
    assert.ok(text.length < 400 * 6, 'the answer stopped');
  });

  it('counts tokens with the real tokenizer', async () => {
    const model = await maofModel('agent:sim-gpt');
    assert.equal(await model.countTokens('hello world'), 2);
    const long = 'function add(a: number, b: number) { return a + b; }\n'.repeat(40);
    const n = await model.countTokens(vscode.LanguageModelChatMessage.User(long));
    assert.ok(n > 300 && n < 1000, `${n} tokens`);
  });
});
