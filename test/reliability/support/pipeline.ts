// Builds what the reliability tests drive: a loopback simulator whose requests are counted for the
// summary, configs that point at it, and orchestrators wired as the products wire them (redacting
// logger that knows the keys) with every log line, event and result fed to the leak scanner.
import assert from 'node:assert/strict';
import { BREAKER_STATE_KEY, Orchestrator, type RunResult } from '../../../src/core/orchestrator';
import { LEDGER_STATE_KEY } from '../../../src/core/cost/costLedger';
import type { MaofEvent } from '../../../src/core/events';
import { parseConfig, type MaofConfig } from '../../../src/core/config/schema';
import { createRedactingLogger } from '../../../src/core/logging/redactingLogger';
import { MemoryStateStore, type Logger, type SecretSource, type StateStore } from '../../../src/core/ports';
import { ProviderSimulator, type SimulatorAddress } from '../../../src/simulator/providerSimulator';
import { ALL_KEYS, KEYS, countUpstream, leaks } from './runContext';

export class MapSecrets implements SecretSource {
  constructor(public values: Record<string, string | undefined>) {}
  get(name: string): Promise<string | undefined> {
    return Promise.resolve(this.values[name]);
  }
}

export const PROVIDER_SECRETS = { 'provider:openai': KEYS.openai, 'provider:anthropic': KEYS.anthropic };

/** A simulator whose requests count towards the stage total. Call `reset` / `stop` through here. */
export class CountedSimulator extends ProviderSimulator {
  override reset(): void {
    countUpstream(this.tally().requests);
    super.reset();
  }

  override async stop(): Promise<void> {
    countUpstream(this.tally().requests);
    super.reset();
    await super.stop();
  }

  /**
   * Waits until every exchange the simulator saw has ended (an aborted or timed-out request is
   * counted when its socket closes, which may come just after the client returned).
   */
  async quiesce(maxMs = 3_000): Promise<void> {
    const done = (): boolean => {
      const t = this.tally();
      return t.succeeded + t.faulted + t.aborted >= t.requests;
    };
    for (let waited = 0; !done() && waited < maxMs; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.ok(done(), `simulator exchanges still open after ${maxMs} ms: ${JSON.stringify(this.tally())}`);
  }

  /** Completion requests per provider in the request log. */
  requestsBy(provider: 'openai' | 'anthropic'): number {
    return this.requestLog(1000).filter((e) => e.provider === provider).length;
  }
}

export interface AgentOverrides {
  oa?: Record<string, unknown>;
  an?: Record<string, unknown>;
}

/** Two agents, one per provider, on the simulator; small retry delays and no jitter, so waits are exact. */
export function relConfig(addr: SimulatorAddress, overrides: Record<string, unknown> = {}, agents: AgentOverrides = {}): MaofConfig {
  const raw = {
    agents: [
      { id: 'oa', provider: 'openai', model: 'gpt-4.1-mini', baseUrl: addr.openaiBaseUrl, contextWindow: 100_000, maxOutputTokens: 512, timeoutMs: 10_000, requiresKey: true, ...agents.oa },
      { id: 'an', provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: addr.anthropicBaseUrl, contextWindow: 200_000, maxOutputTokens: 512, timeoutMs: 10_000, ...agents.an },
    ],
    routes: { code: ['oa', 'an'], writing: ['an', 'oa'], analysis: ['an', 'oa'] },
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 20_000, maxRetryAfterMs: 2_000, jitter: 0 },
    breaker: { failureThreshold: 5, resetTimeoutMs: 60_000 },
    budget: {},
    cache: { enabled: false },
    ...overrides,
  };
  const { config, issues } = parseConfig(raw);
  assert.deepEqual(issues, [], 'the test config is valid');
  return config;
}

/** Renders log arguments as the redacting logger would, before its redaction (for the raw count). */
function renderRaw(values: unknown[]): string {
  return values
    .map((v) => {
      if (v instanceof Error) {
        const detail = (v as { detail?: unknown }).detail;
        return `${v.name}: ${v.message} ${typeof detail === 'string' ? detail : ''}`;
      }
      if (typeof v === 'string') return v;
      try {
        return JSON.stringify(v);
      } catch {
        return String(v);
      }
    })
    .join(' ');
}

/** The product's logger (redacting, knows the keys) writing to the leak scanner; raw text is counted apart. */
export function scannedLogger(label: string, lines?: string[]): Logger {
  const inner = createRedactingLogger(
    (level, line) => {
      leaks.scan(`log:${label}`, line);
      lines?.push(`[${level}] ${line}`);
    },
    { level: 'trace', knownSecrets: () => ALL_KEYS },
  );
  const tee =
    (level: keyof Logger) =>
    (message: string | Error, ...args: unknown[]): void => {
      leaks.scanRaw(renderRaw([message, ...args]));
      (inner[level] as (m: string | Error, ...a: unknown[]) => void)(message, ...args);
    };
  return { trace: tee('trace'), debug: tee('debug'), info: tee('info'), warn: tee('warn'), error: tee('error') };
}

export interface Built {
  orchestrator: Orchestrator;
  store: StateStore;
  logLines: string[];
  /** Every event (unless `keepEvents` was false; they are scanned for keys either way). */
  events: MaofEvent[];
}

export function buildOrchestrator(
  label: string,
  config: MaofConfig,
  opts: { store?: StateStore; secrets?: Record<string, string | undefined>; keepEvents?: boolean } = {},
): Built {
  const store = opts.store ?? new MemoryStateStore();
  const logLines: string[] = [];
  const events: MaofEvent[] = [];
  const keep = opts.keepEvents !== false;
  const orchestrator = new Orchestrator({ config, secrets: new MapSecrets(opts.secrets ?? PROVIDER_SECRETS), store, logger: scannedLogger(label, keep ? logLines : undefined) });
  orchestrator.events.on((e) => {
    leaks.scan(`event:${label}`, JSON.stringify(e));
    if (keep) events.push(e);
  });
  return { orchestrator, store, logLines, events };
}

/** Scans what an orchestrator persisted (ledger, breakers) once it is written. */
export async function scanStore(label: string, orchestrator: Orchestrator, store: StateStore): Promise<void> {
  await orchestrator.flush();
  leaks.scan(`state:${label}`, JSON.stringify([store.get(LEDGER_STATE_KEY) ?? null, store.get(BREAKER_STATE_KEY) ?? null]));
}

/** What a user or a webview gets from a result: scanned for keys. */
export function scanResult(label: string, r: RunResult): void {
  leaks.scan(`result:${label}`, JSON.stringify(r));
  if (!r.ok) {
    leaks.scan(`error:${label}`, r.error.message);
    // The detail goes only to the log (through the redacting logger): counted like raw log text.
    if (r.error.detail) leaks.scanRaw(r.error.detail);
    // What the host posts to the chat webview for a failed answer.
    leaks.scan(`webview:${label}`, JSON.stringify({ type: 'chat/stream', messageId: r.requestId, done: true, error: { code: r.error.code, message: r.error.message } }));
  }
}

/** A message shown to a user names no endpoint, no key, no stack and no raw exception. */
export function assertSanitised(text: string): void {
  const banned: Array<string | RegExp> = ['127.0.0.1', 'localhost', 'http:', 'https:', ...ALL_KEYS, /\n\s+at /, /\.ts:\d/, /\.js:\d/, 'SyntaxError', 'TypeError', 'undefined', '[object'];
  for (const b of banned) {
    const hit = typeof b === 'string' ? text.includes(b) : b.test(text);
    assert.ok(!hit, `user-facing text leaks ${String(b)}: ${text}`);
  }
}

export function expectOk(r: RunResult): Extract<RunResult, { ok: true }> {
  if (!r.ok) assert.fail(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r;
}

export function expectFail(r: RunResult): Extract<RunResult, { ok: false }> {
  if (r.ok) assert.fail(`expected a failure, got an answer from ${r.agentId}`);
  return r;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The hooks every reliability suite needs: a counted simulator on 127.0.0.1 for the suite, quiet
 * and reset before each test. Call inside `describe`.
 */
export function simulatorPerSuite(): { sim: CountedSimulator; addr: () => SimulatorAddress } {
  const sim = new CountedSimulator();
  let address: SimulatorAddress | undefined;
  before(async () => {
    address = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    await sim.quiesce();
    sim.reset();
  });
  return {
    sim,
    addr: () => {
      if (!address) throw new Error('the simulator has not started yet');
      return address;
    },
  };
}
