// Builds an Orchestrator wired to a live ProviderSimulator on 127.0.0.1 with the real SDK-backed
// providers, for tests that exercise the whole pipeline over real HTTP.
import assert from 'node:assert/strict';
import { Orchestrator, type RunResult, type RunSuccess } from '../../../src/core/orchestrator';
import { parseConfig, type MaofConfig } from '../../../src/core/config/schema';
import { MemoryStateStore, type SecretSource, type StateStore } from '../../../src/core/ports';
import type { MaofEvent } from '../../../src/core/events';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';

export const OPENAI_KEY = 'sk-test-openai-0123456789abcdef';
export const ANTHROPIC_KEY = 'sk-ant-test-0123456789abcdef';

export class MapSecrets implements SecretSource {
  constructor(public values: Record<string, string | undefined>) {}
  get(name: string): Promise<string | undefined> {
    return Promise.resolve(this.values[name]);
  }
}

export function simConfig(addr: SimulatorAddress, overrides: Record<string, unknown> = {}): MaofConfig {
  const raw = {
    agents: [
      { id: 'oa', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 100_000, maxOutputTokens: 512, timeoutMs: 5_000, requiresKey: true },
      { id: 'an', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: addr.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 512, timeoutMs: 5_000, requiresKey: true },
    ],
    routes: { code: ['oa', 'an'], writing: ['oa', 'an'], analysis: ['an', 'oa'] },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 10_000, maxRetryAfterMs: 1_000 },
    breaker: { failureThreshold: 3, resetTimeoutMs: 60_000 },
    budget: {},
    cache: { enabled: true },
    ...overrides,
  };
  const { config, issues } = parseConfig(raw);
  if (issues.some((i) => !i.path.endsWith('.pricing'))) throw new Error(`test config invalid: ${JSON.stringify(issues)}`);
  return config;
}

export interface Harness {
  orchestrator: Orchestrator;
  events: MaofEvent[];
  secrets: MapSecrets;
  store: StateStore;
}

export function makeOrchestrator(config: MaofConfig, opts: { secrets?: Record<string, string | undefined>; store?: StateStore } = {}): Harness {
  const secrets = new MapSecrets(opts.secrets ?? { 'provider:openai': OPENAI_KEY, 'provider:anthropic': ANTHROPIC_KEY });
  const store = opts.store ?? new MemoryStateStore();
  const orchestrator = new Orchestrator({ config, secrets, store });
  const events: MaofEvent[] = [];
  orchestrator.events.on((e) => events.push(e));
  return { orchestrator, events, secrets, store };
}

/** Asserts that text shown to a user names no endpoint and no key. */
export function assertSanitised(text: string): void {
  for (const bad of ['127.0.0.1', 'http://', 'https://', OPENAI_KEY, ANTHROPIC_KEY, 'at Object.', '.ts:']) {
    if (text.includes(bad)) throw new Error(`user-facing text leaks "${bad}": ${text}`);
  }
}

/** A test's run result when it must have succeeded; fails the test with the error otherwise. */
export function expectOk(r: RunResult): RunSuccess {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r;
}

/**
 * The hooks of a suite over one simulator: started before the suite, stopped after it, its plan
 * and tally reset before each test. Call inside `describe`.
 */
export function simulatorPerSuite(): { sim: ProviderSimulator; addr: () => SimulatorAddress } {
  const sim = new ProviderSimulator();
  let address: SimulatorAddress | undefined;
  before(async () => {
    address = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => sim.reset());
  return {
    sim,
    addr: () => {
      if (!address) throw new Error('the simulator has not started yet');
      return address;
    },
  };
}
