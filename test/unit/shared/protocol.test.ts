import * as assert from 'node:assert/strict';
import { parseChatMessage, type ChatWebviewMessage } from '../../../src/shared/chatProtocol';
import { parseDashboardMessage, type DashboardWebviewMessage } from '../../../src/shared/dashboardProtocol';
import type { ParsedMessage } from '../../../src/shared/protocolCommon';
import { MAX_CODE_CHARS, MAX_ID_CHARS, MAX_PROMPT_CHARS } from '../../../src/shared/protocolLimits';

type WebviewMessage = ChatWebviewMessage | DashboardWebviewMessage;

/** Each view parses with its own protocol: dashboard messages go to the dashboard's parser, the rest to the chat's. */
function parseWebviewMessage(raw: unknown): ParsedMessage<WebviewMessage> {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return typeof type === 'string' && type.startsWith('dashboard/') ? parseDashboardMessage(raw) : parseChatMessage(raw);
}

function rejected(raw: unknown): { error: string; type?: string } {
  const r = parseWebviewMessage(raw);
  assert.equal(r.ok, false, `expected ${JSON.stringify(raw)?.slice(0, 120)} to be rejected`);
  if (r.ok) throw new Error('unreachable');
  return r;
}

const send = { type: 'chat/send', sessionId: 'session-1', prompt: 'Explain this function', agentId: 'auto', includeContext: true };

describe('webview protocol parsing', () => {
  it('accepts every well-formed message and returns it typed', () => {
    const valid: WebviewMessage[] = [
      { type: 'chat/ready' },
      { type: 'chat/send', sessionId: 's', prompt: 'hi', agentId: 'claude-sonnet', includeContext: false },
      { type: 'chat/stop', messageId: 'm-1' },
      { type: 'chat/insert', code: 'const x = 1;', language: 'ts' },
      { type: 'chat/apply', code: '' },
      { type: 'chat/copy', code: 'print(1)' },
      { type: 'chat/clear' },
      { type: 'chat/setAgent', agentId: 'auto', includeContext: true },
      { type: 'chat/waitAction', messageId: 'm-1', action: 'retryNow' },
      { type: 'chat/waitAction', messageId: 'm-1', action: 'switchAgent' },
      { type: 'dashboard/ready' },
      { type: 'dashboard/resetBreaker', agentId: 'gpt-4.1' },
      { type: 'dashboard/resetAll' },
      { type: 'dashboard/export' },
    ];
    for (const m of valid) {
      const r = parseWebviewMessage(m);
      assert.ok(r.ok, `${m.type} was rejected: ${r.ok ? '' : r.error}`);
      assert.deepEqual(r.message, m);
    }
  });

  it('drops fields the protocol does not know instead of passing them on', () => {
    const r = parseWebviewMessage({ ...send, __proto_pollution: { admin: true }, extra: 1 });
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.message).sort(), ['agentId', 'includeContext', 'prompt', 'sessionId', 'type']);
  });

  it('rejects a wait action it does not know, naming the ones it does', () => {
    assert.match(rejected({ type: 'chat/waitAction', messageId: 'm-1', action: 'deleteKeys' }).error, /action must be one of retryNow, switchAgent/);
  });

  it('rejects non-objects with a reason', () => {
    assert.match(rejected('chat/send').error, /not an object.*"chat\/send"/);
    assert.match(rejected(null).error, /not an object \(got null\)/);
    assert.match(rejected(undefined).error, /not an object \(got undefined\)/);
    assert.match(rejected([send]).error, /not an object \(got an array\)/);
    assert.match(rejected(42).error, /not an object \(got number\)/);
  });

  it('rejects a missing or unknown type, naming it', () => {
    assert.match(rejected({ prompt: 'hi' }).error, /no "type"/);
    assert.match(rejected({ type: 7 }).error, /no "type" string \(got number\)/);
    const unknown = rejected({ type: 'chat/deleteEverything' });
    assert.match(unknown.error, /unknown message type "chat\/deleteEverything"/);
    assert.equal(unknown.type, undefined);
    // A huge type string is not echoed back whole.
    assert.ok(rejected({ type: 'x'.repeat(10_000) }).error.length < 200);
  });

  it('rejects wrong field types and says which field, keeping the message type', () => {
    const r = rejected({ ...send, prompt: 42 });
    assert.equal(r.type, 'chat/send');
    assert.match(r.error, /^chat\/send: prompt must be a string \(got number\)/);
    assert.match(rejected({ ...send, includeContext: 'yes' }).error, /includeContext must be true or false/);
    assert.match(rejected({ type: 'chat/send', prompt: 'hi' }).error, /sessionId is missing.*agentId is missing/);
    assert.match(rejected({ type: 'chat/copy', code: { toString: 'x' } }).error, /code must be a string \(got an object\)/);
    assert.match(rejected({ type: 'chat/stop' }).error, /chat\/stop: messageId is missing/);
  });

  it('rejects empty prompts and empty ids', () => {
    assert.match(rejected({ ...send, prompt: '  \n ' }).error, /prompt is empty/);
    assert.match(rejected({ type: 'dashboard/resetBreaker', agentId: '' }).error, /agentId is empty/);
  });

  it('rejects oversized payloads with their size and the limit', () => {
    const prompt = rejected({ ...send, prompt: 'a'.repeat(MAX_PROMPT_CHARS + 1) });
    assert.equal(prompt.type, 'chat/send');
    assert.match(prompt.error, /prompt is too long \(200,001 characters; at most 200,000\)/);
    assert.ok(parseWebviewMessage({ ...send, prompt: 'a'.repeat(MAX_PROMPT_CHARS) }).ok, 'a prompt at the limit is fine');

    assert.match(rejected({ type: 'chat/insert', code: 'x'.repeat(MAX_CODE_CHARS + 1) }).error, /code is too long/);
    assert.ok(parseWebviewMessage({ type: 'chat/apply', code: 'x'.repeat(MAX_CODE_CHARS) }).ok);

    assert.match(rejected({ type: 'chat/stop', messageId: 'm'.repeat(MAX_ID_CHARS + 1) }).error, /messageId is too long/);
    assert.match(rejected({ ...send, sessionId: 's'.repeat(MAX_ID_CHARS + 1) }).error, /sessionId is too long/);
    assert.match(rejected({ type: 'chat/insert', code: 'x', language: 'l'.repeat(65) }).error, /language is too long/);
  });

  it('gives each view only its own messages: the other view\'s are unknown types', () => {
    const chat = parseChatMessage({ type: 'dashboard/resetAll' });
    assert.ok(!chat.ok);
    assert.match(chat.error, /unknown message type "dashboard\/resetAll"/);
    const dashboard = parseDashboardMessage({ type: 'chat/send', sessionId: 's', prompt: 'hi', agentId: 'auto', includeContext: false });
    assert.ok(!dashboard.ok);
    assert.match(dashboard.error, /unknown message type "chat\/send"/);
    assert.equal(dashboard.type, undefined, 'no error bubble is owed for another view\'s message');
    // Names an object has by inheritance are not message types.
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.ok(!parseChatMessage({ type }).ok, type);
      assert.ok(!parseDashboardMessage({ type }).ok, type);
    }
  });

  it('keeps error text short even for many bad fields', () => {
    const r = rejected({ type: 'chat/send', sessionId: 1, prompt: 2, agentId: 3, includeContext: 4 });
    assert.ok(r.error.length < 300, r.error);
  });
});
