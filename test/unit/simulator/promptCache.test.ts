// The simulator's prompt-cache model, through the real SDKs: what OpenAI caches on its own
// (1,024 tokens and more, in 128-token steps) and what Anthropic caches only when asked (up to a
// cache_control breakpoint, the first sight billed as a write), both within a TTL on a fake clock.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { FakeClock } from '../helpers/fakeClock';

const clock = new FakeClock();
const sim = new ProviderSimulator({ now: () => clock.now() });
let addr: SimulatorAddress;
let openai: OpenAI;
let anthropic: Anthropic;

/** About `tokens` tokens of text that no other prompt shares (4 characters a token). */
function text(tokens: number, seed: string): string {
  return `${seed} `.padEnd(tokens * 4, 'abcd ');
}

describe('simulator prompt cache', () => {
  before(async () => {
    addr = await sim.start();
    openai = new OpenAI({ apiKey: 'sk-test', baseURL: addr.openaiBaseUrl, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: addr.anthropicBaseUrl, maxRetries: 0 });
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());

  describe('OpenAI (automatic)', () => {
    const ask = (system: string, user: string) =>
      openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'system', content: system }, { role: 'user', content: user }] });

    it('bills a long prefix seen before as cached tokens, in 128-token steps', async () => {
      const system = text(3000, 'openai-long');
      const first = await ask(system, 'first question');
      const second = await ask(system, 'another question');
      assert.equal(first.usage?.prompt_tokens_details?.cached_tokens, 0);
      const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
      // The system message (3,004 tokens) is the shared prefix, in whole 128-token steps; the new question is not.
      assert.ok(cached >= 2816 && cached <= 3004, `cached ${cached}`);
      assert.equal(cached % 128, 0);
      assert.equal(second.usage?.prompt_tokens, first.usage?.prompt_tokens);
    });

    it('caches nothing under 1,024 tokens', async () => {
      const system = text(900, 'openai-short');
      await ask(system, 'q1');
      const second = await ask(system, 'q2');
      assert.equal(second.usage?.prompt_tokens_details?.cached_tokens, 0);
    });

    it('forgets a prefix unused for longer than the TTL (settable)', async () => {
      const system = text(2000, 'openai-ttl');
      await ask(system, 'q1');
      sim.setPromptCacheTtl(60_000);
      await ask(system, 'q2'); // refreshes with the new TTL
      await clock.advance(59_000);
      assert.ok(((await ask(system, 'q3')).usage?.prompt_tokens_details?.cached_tokens ?? 0) > 0, 'within the TTL');
      await clock.advance(61_000);
      assert.equal((await ask(system, 'q4')).usage?.prompt_tokens_details?.cached_tokens, 0, 'after the TTL');
    });

    it('takes its TTL and a clear over the control API', async () => {
      const control = (body: unknown) => fetch(`http://127.0.0.1:${addr.port}/__sim/prompt-cache`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const system = text(2000, 'openai-control');
      await ask(system, 'q1');
      assert.equal((await control({ clear: true })).status, 200);
      assert.equal((await ask(system, 'q2')).usage?.prompt_tokens_details?.cached_tokens, 0, 'cleared');
      assert.equal((await control({ ttlMs: 0, clear: true })).status, 200);
      await ask(system, 'q3');
      assert.equal((await ask(system, 'q4')).usage?.prompt_tokens_details?.cached_tokens, 0, 'a TTL of 0 caches nothing');
      assert.equal((await control({ ttlMs: -1 })).status, 400);
    });

    it('keeps the [[cached:N]] marker working', async () => {
      const r = await ask('short system', 'hello [[cached:7]]');
      assert.equal(r.usage?.prompt_tokens_details?.cached_tokens, 7);
    });
  });

  describe('Anthropic (breakpoints)', () => {
    const send = (model: string, system: Anthropic.TextBlockParam[], user: string) =>
      anthropic.messages.create({ model, max_tokens: 100, system, messages: [{ role: 'user', content: user }] });

    it('caches nothing that was not marked', async () => {
      const system = [{ type: 'text' as const, text: text(3000, 'anthropic-unmarked') }];
      await send('claude-sonnet-4-6', system, 'q1');
      const second = await send('claude-sonnet-4-6', system, 'q2');
      assert.equal(second.usage.cache_read_input_tokens, 0);
      assert.equal(second.usage.cache_creation_input_tokens, 0);
    });

    it('writes the prefix up to a breakpoint on first sight and reads it after', async () => {
      const system = [{ type: 'text' as const, text: text(3000, 'anthropic-marked'), cache_control: { type: 'ephemeral' as const } }];
      const first = await send('claude-sonnet-4-6', system, 'q1');
      const second = await send('claude-sonnet-4-6', system, 'q2');
      assert.equal(first.usage.cache_creation_input_tokens, 3004);
      assert.equal(first.usage.cache_read_input_tokens, 0);
      assert.equal(second.usage.cache_creation_input_tokens, 0);
      assert.equal(second.usage.cache_read_input_tokens, 3004);
      // What follows the breakpoint is plain input both times.
      assert.equal(second.usage.input_tokens, first.usage.input_tokens);
      assert.ok(second.usage.input_tokens > 0 && second.usage.input_tokens < 20);
    });

    it('ignores a breakpoint below the model\'s minimum (Haiku 4.5: 4,096 tokens)', async () => {
      const system = [{ type: 'text' as const, text: text(3000, 'anthropic-haiku'), cache_control: { type: 'ephemeral' as const } }];
      await send('claude-haiku-4-5', system, 'q1');
      const second = await send('claude-haiku-4-5', system, 'q2');
      assert.equal(second.usage.cache_read_input_tokens, 0);
      assert.equal(second.usage.cache_creation_input_tokens, 0);
    });

    it('finds the previous turn\'s breakpoint when the conversation grew (lookback)', async () => {
      const system = [{ type: 'text' as const, text: text(1500, 'anthropic-convo') }];
      const turn1: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'first turn', cache_control: { type: 'ephemeral' } }] }];
      const r1 = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 100, system, messages: turn1 });
      const turn2: Anthropic.MessageParam[] = [
        { role: 'user', content: [{ type: 'text', text: 'first turn' }] },
        { role: 'assistant', content: r1.content.map((b) => (b.type === 'text' ? { type: 'text' as const, text: b.text } : { type: 'text' as const, text: '' })) },
        { role: 'user', content: [{ type: 'text', text: 'second turn', cache_control: { type: 'ephemeral' } }] },
      ];
      const r2 = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 100, system, messages: turn2 });
      const prefix1 = r1.usage.cache_creation_input_tokens ?? 0;
      assert.ok(prefix1 > 1500);
      assert.equal(r2.usage.cache_read_input_tokens, prefix1);
      // Only the new part (the answer and the second question) is written.
      assert.ok((r2.usage.cache_creation_input_tokens ?? 0) > 0 && (r2.usage.cache_creation_input_tokens ?? 0) < 100);
    });

    it('bills a stream the same way', async () => {
      const system = [{ type: 'text' as const, text: text(2000, 'anthropic-stream'), cache_control: { type: 'ephemeral' as const } }];
      await send('claude-sonnet-4-6', system, 'q1');
      const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 100, system, messages: [{ role: 'user', content: 'q2' }] });
      const final = await stream.finalMessage();
      assert.equal(final.usage.cache_read_input_tokens, 2004);
    });
  });
});
