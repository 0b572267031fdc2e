// The side-panel chat in a real extension host: the real webview loads and says ready, a message
// streams from the simulator in chunks that end with done:true and meta, retries and fallbacks are
// narrated, Stop cancels, code reaches the editor in one undo step, and malformed webview messages
// are refused without breaking anything.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ChatViewHandle } from '../../src/host/chat/chatView';
import type { MaofTestApi } from '../../src/host/boot/extension';
import type { ChatHostMessage as HostMessage, ChatHostMessageOf as HostMessageOf, ChatMeta } from '../../src/shared/chatProtocol';
import { ProviderSimulator } from '../../src/simulator/providerSimulator';
import { clearKeys, closeAllEditors, maofApi, resetSettings, storeKeys, TEST_KEYS, useSimulatorSettings, waitFor, workspaceFile } from './helpers';
import { COMMANDS } from '../../src/host/platform/ids';

type Stream = HostMessageOf<'chat/stream'>;

interface Turn {
  posted: HostMessage[];
  answerId: string;
  chunks: string[];
  final: Stream & { done: true };
}

function isStream(m: HostMessage): m is Stream {
  return m.type === 'chat/stream';
}

async function chat(api: MaofTestApi): Promise<ChatViewHandle> {
  await vscode.commands.executeCommand(COMMANDS.openChat);
  await waitFor('the chat view to register', () => api.chatView !== undefined);
  const handle = api.chatView!;
  // The real page (bundle, CSP, nonce) must load and post chat/ready.
  await Promise.race([handle.whenReady(), new Promise((_, reject) => setTimeout(() => reject(new Error('the chat webview never said chat/ready')), 30_000))]);
  return handle;
}

/** Sends like the webview would and collects what the host posts until the answer is done. */
async function send(handle: ChatViewHandle, prompt: string, opts: { agentId?: string; during?: (m: HostMessage, answerId: string) => void } = {}): Promise<Turn> {
  const posted: HostMessage[] = [];
  let answerId = '';
  const sub = handle.onDidPostMessage((m) => {
    posted.push(m);
    if (m.type === 'chat/append' && !answerId) answerId = m.messages.find((x) => x.role === 'assistant' && x.pending)?.id ?? '';
    opts.during?.(m, answerId);
  });
  try {
    await handle.receive({ type: 'chat/send', sessionId: handle.sessionId, prompt, agentId: opts.agentId ?? 'auto', includeContext: false });
  } finally {
    sub.dispose();
  }
  assert.ok(answerId, 'the host appended a pending answer');
  const streams = posted.filter(isStream).filter((m) => m.messageId === answerId);
  const final = streams.find((m): m is Stream & { done: true } => m.done);
  assert.ok(final, 'the stream ended with done:true');
  assert.equal(streams.indexOf(final), streams.length - 1, 'nothing is posted after done:true');
  const chunks = streams.filter((m): m is Stream & { done: false } => !m.done).map((m) => m.content);
  return { posted, answerId, chunks, final };
}

function metaOf(turn: Turn): ChatMeta {
  assert.ok('meta' in turn.final, `expected an answer, got ${JSON.stringify(turn.final)}`);
  return turn.final.meta;
}

describe('chat view', function () {
  this.timeout(60_000);
  const sim = new ProviderSimulator();
  let api: MaofTestApi;
  let handle: ChatViewHandle;

  before(async () => {
    const address = await sim.start();
    api = await maofApi();
    await useSimulatorSettings(api, address);
    await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
    handle = await chat(api);
    await handle.receive({ type: 'chat/clear' });
  });
  afterEach(() => sim.reset());
  after(async () => {
    await closeAllEditors();
    await clearKeys(api);
    await resetSettings();
    await sim.stop();
  });

  it('answers from the state on chat/ready with agents, key and breaker state', async () => {
    const posted: HostMessage[] = [];
    const sub = handle.onDidPostMessage((m) => posted.push(m));
    try {
      await handle.receive({ type: 'chat/ready' });
    } finally {
      sub.dispose();
    }
    const state = posted.find((m): m is HostMessageOf<'chat/state'> => m.type === 'chat/state');
    assert.ok(state, 'chat/state posted');
    assert.equal(state.sessionId, handle.sessionId);
    assert.ok(Array.isArray(state.history), 'with the history');
    const gpt = state.agents.find((a) => a.id === 'sim-gpt');
    assert.deepEqual(gpt && { provider: gpt.provider, model: gpt.model, breaker: gpt.breaker, key: gpt.key }, { provider: 'openai', model: 'gpt-4.1-mini', breaker: 'closed', key: 'set' });
  });

  it('streams an answer in chunks under one message id, ending with done:true and meta', async () => {
    const turn = await send(handle, 'Write a function that adds two numbers [[words:80]]');
    const append = turn.posted.find((m): m is HostMessageOf<'chat/append'> => m.type === 'chat/append');
    assert.deepEqual(append?.messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(append?.messages[0].content, 'Write a function that adds two numbers [[words:80]]');
    assert.ok(turn.chunks.length >= 2, `expected the first delta on its own and the rest after it, got ${turn.chunks.length} chunk(s)`);
    const meta = metaOf(turn);
    assert.equal(meta.agentId, 'sim-gpt', 'a code request goes to the code route');
    assert.equal(meta.model, 'gpt-4.1-mini');
    assert.ok(meta.costUsd > 0, 'the answer has a cost');
    assert.equal(meta.attempts, 1);
    assert.equal(meta.retries, 0);
    assert.equal(meta.fallbacks, 0);
    assert.equal(meta.cached, false);
    assert.ok(meta.durationMs >= 0);
    const text = 'text' in turn.final ? turn.final.text : undefined;
    assert.match(text ?? '', /^Simulated gpt-4\.1-mini reply/);
    assert.equal(turn.chunks.join(''), text, 'the chunks add up to the final text');

    const saved = handle.history();
    const answer = saved.find((m) => m.id === turn.answerId);
    assert.equal(answer?.content, text);
    assert.equal(answer?.pending, undefined);
    await waitFor('the conversation to be saved in workspaceState', () => {
      const stored = api.services.extensionContext.workspaceState.get<{ messages?: Array<{ id: string }> }>('maof.chat.v1');
      return stored?.messages?.some((m) => m.id === turn.answerId) === true;
    });
  });

  it('remembers the conversation for the next turn (session memory)', async () => {
    await send(handle, 'Remember the word pelican');
    const memory = api.orchestrator.sessions.get(handle.sessionId).toMessages();
    assert.ok(memory.some((m) => m.role === 'user' && m.content.includes('pelican')), 'the turn is in the session memory');
  });

  it('narrates a rate-limit retry with a countdown and counts it in the meta', async () => {
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'rate_limit', retryAfterMs: 300 } }]);
    const turn = await send(handle, 'Fix the bug in this function', { agentId: 'sim-gpt' });
    const statuses = turn.posted.filter((m): m is HostMessageOf<'chat/status'> => m.type === 'chat/status' && m.messageId === turn.answerId);
    // A 429 is a pause the user can cut short or leave: a countdown with the wait's reason and agent.
    // sim-gpt sits behind a baseUrl: named as the error messages name it, not "OpenAI".
    const retry = statuses.find((s) => s.text.startsWith('The OpenAI-compatible server asked to slow down'));
    assert.ok(retry, `a rate-limit status line; got ${JSON.stringify(statuses.map((s) => s.text))}`);
    assert.match(retry.text, /waiting for sim-gpt's rate limit, sending in 1 s/);
    assert.ok(retry.waitMs !== undefined && retry.waitMs > 0);
    assert.deepEqual(retry.wait, { reason: 'rate-limit', agentId: 'sim-gpt' });
    const meta = metaOf(turn);
    assert.equal(meta.retries, 1);
    assert.equal(meta.attempts, 2);
  });

  it('falls back to the next agent and says so', async () => {
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'overloaded' }, times: 2 }]);
    const turn = await send(handle, 'Refactor this function to be shorter');
    const statuses = turn.posted.filter((m): m is HostMessageOf<'chat/status'> => m.type === 'chat/status').map((s) => s.text);
    assert.ok(statuses.some((t) => /sim-gpt failed \(overloaded\) — falling back to sim-claude/.test(t)), JSON.stringify(statuses));
    const meta = metaOf(turn);
    assert.equal(meta.agentId, 'sim-claude');
    assert.equal(meta.fallbacks, 1);
  });

  it('discards partial text when a stream breaks and the retry starts over', async () => {
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'reset_mid_stream', afterChunks: 3 } }]);
    const turn = await send(handle, 'Implement a stack class [[words:40]]', { agentId: 'sim-gpt' });
    const restartAt = turn.posted.findIndex((m) => m.type === 'chat/restart' && m.messageId === turn.answerId);
    assert.ok(restartAt >= 0, 'chat/restart was posted');
    const after = turn.posted.slice(restartAt + 1).filter(isStream).filter((m): m is Stream & { done: false } => !m.done).map((m) => m.content);
    const text = 'text' in turn.final ? turn.final.text : '';
    assert.equal(after.join(''), text, 'after the restart the chunks alone make the answer');
    assert.equal(handle.history().find((m) => m.id === turn.answerId)?.content, text);
  });

  it('stops an answer with chat/stop, keeping what arrived', async () => {
    sim.plan([{ match: { model: 'gpt-4.1-mini' }, fault: { kind: 'slow_stream', chunkDelayMs: 150 } }]);
    let stopped = false;
    const turn = await send(handle, 'Write a long sorting function [[words:200]]', {
      agentId: 'sim-gpt',
      during: (m, answerId) => {
        if (!stopped && m.type === 'chat/stream' && !m.done && m.messageId === answerId) {
          stopped = true;
          void handle.receive({ type: 'chat/stop', messageId: answerId });
        }
      },
    });
    assert.ok(stopped, 'a chunk arrived before stopping');
    assert.ok('error' in turn.final, 'the answer ended without meta');
    assert.equal(turn.final.error.code, 'CANCELLED');
    // The call was cancelled at the provider: what it read and streamed is billed and said.
    assert.match(turn.final.error.message, /^Stopped\. <?\$[\d.,]+ billed for what the agent read and wrote\.$/);
    const saved = handle.history().find((m) => m.id === turn.answerId);
    assert.equal(saved?.error?.code, 'CANCELLED');
    assert.ok((saved?.content.length ?? 0) > 0, 'the partial text is kept');
    assert.ok((saved?.content.length ?? 0) < 600, 'but the rest was not waited for');
  });

  it('refuses malformed and oversized webview messages without crashing, with an error bubble for chat/send', async () => {
    const posted: HostMessage[] = [];
    const sub = handle.onDidPostMessage((m) => posted.push(m));
    const before = handle.history().length;
    try {
      await handle.receive('not an object');
      await handle.receive({ type: 'chat/explode' });
      await handle.receive({ type: 'chat/stop', messageId: 42 });
      await handle.receive({ type: 'chat/insert', code: 'x'.repeat(2 * 1024 * 1024 + 1) });
      await handle.receive({ type: 'chat/send', sessionId: handle.sessionId, prompt: 'y'.repeat(200_001), agentId: 'auto', includeContext: false });
    } finally {
      sub.dispose();
    }
    assert.equal(sim.tally().requests, 0, 'nothing reached a provider');
    const bubbles = posted.filter((m): m is HostMessageOf<'chat/append'> => m.type === 'chat/append');
    assert.equal(bubbles.length, 1, 'one error bubble, for the chat/send only');
    const bubble = bubbles[0].messages[0];
    assert.equal(bubble.role, 'assistant');
    assert.equal(bubble.error?.code, 'BAD_REQUEST');
    assert.match(bubble.error?.message ?? '', /prompt is too long \(200,001 characters; at most 200,000\)/);
    assert.equal(handle.history().length, before + 1, 'history kept, plus the bubble');
    const logged = api.recentLogLines().filter((l) => l.includes('dropped a malformed message'));
    assert.ok(logged.length >= 5, `each dropped message is logged (${logged.length})`);
    assert.ok(logged.every((l) => l.length < 500), 'the log does not echo the oversized payload');

    // And the chat still works.
    const turn = await send(handle, 'Write a hello world script');
    assert.ok('meta' in turn.final);
  });

  it('refuses an agent that is not configured with an error bubble', async () => {
    const posted: HostMessage[] = [];
    const sub = handle.onDidPostMessage((m) => posted.push(m));
    try {
      await handle.receive({ type: 'chat/send', sessionId: handle.sessionId, prompt: 'hi', agentId: 'no-such-agent', includeContext: false });
    } finally {
      sub.dispose();
    }
    const bubble = posted.find((m): m is HostMessageOf<'chat/append'> => m.type === 'chat/append')?.messages[0];
    assert.equal(bubble?.error?.code, 'CONFIG');
    assert.match(bubble?.error?.message ?? '', /"no-such-agent" is not configured/);
    assert.equal(sim.tally().requests, 0);
  });

  it('applies code over the selection and inserts at the cursor, each one undo step', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('src/math.ts'));
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const original = doc.getText();
    const line3 = doc.lineAt(3).text;
    editor.selection = new vscode.Selection(3, 0, 3, line3.length);
    await handle.receive({ type: 'chat/apply', code: 'export function average(xs: number[]): number {', language: 'ts' });
    assert.equal(doc.lineAt(3).text, 'export function average(xs: number[]): number {');
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), original, 'one undo restores the file');

    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await handle.receive({ type: 'chat/insert', code: '// inserted\n' });
    assert.equal(doc.lineAt(0).text, '// inserted');
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), original);
  });

  it('copies code to the clipboard', async () => {
    await handle.receive({ type: 'chat/copy', code: 'const copied = 1;' });
    assert.equal(await vscode.env.clipboard.readText(), 'const copied = 1;');
  });

  it('starts a new conversation on chat/clear', async () => {
    const old = handle.sessionId;
    await handle.receive({ type: 'chat/clear' });
    assert.notEqual(handle.sessionId, old);
    assert.deepEqual(handle.history(), []);
  });

  it('lists an agent that needs no key as ready, not as missing one, once no key is stored', async () => {
    await clearKeys(api);
    const posted: HostMessage[] = [];
    const sub = handle.onDidPostMessage((m) => posted.push(m));
    try {
      // The keys' change reaches the view as a new chat/state; chat/ready asks for one anyway.
      await waitFor('a chat/state without keys', async () => {
        posted.length = 0;
        await handle.receive({ type: 'chat/ready' });
        const state = posted.find((m): m is HostMessageOf<'chat/state'> => m.type === 'chat/state');
        return state?.agents.find((a) => a.id === 'sim-claude')?.key === 'missing';
      });
    } finally {
      sub.dispose();
    }
    const state = posted.find((m): m is HostMessageOf<'chat/state'> => m.type === 'chat/state');
    const key = (id: string): string | undefined => state?.agents.find((a) => a.id === id)?.key;
    // sim-gpt is an OpenAI-compatible server on loopback: it takes no key. sim-claude needs one.
    assert.equal(key('sim-gpt'), 'not-needed');
    assert.equal(key('sim-claude'), 'missing');
    await storeKeys(api, { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic });
  });
});
