// R2: 10,000 requests through the real batch path (runBatch, in-process) at concurrency 32 while the
// simulator breaks 20 % of requests (seeded, recoverable kinds), then a smaller run of the built CLI
// binary. Nothing may be lost or answered twice, every request is accounted for, and the ledger
// must equal the simulator's own usage tally to the token.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseBatch, runBatch } from '../../src/cli/batch';
import { toJson } from '../../src/cli/main';
import { ERROR_CODES } from '../../src/core/errors';
import { costOf } from '../../src/core/cost/costCalculator';
import { pricingFor, type MaofConfig } from '../../src/core/config/schema';
import { FileStateStore } from '../../src/core/persistence/fileStateStore';
import type { RunResult } from '../../src/core/orchestrator';
import { RECOVERABLE_KINDS } from '../../src/simulator/faultPlan';
import type { SimulatorAddress, SimulatorTally } from '../../src/simulator/providerSimulator';
import { ZERO_USAGE, addUsage, type Usage } from '../../src/core/types';
import { leaks, record, tempDir } from './support/runContext';
import { assertSanitised, buildOrchestrator, relConfig, scannedLogger, simulatorPerSuite } from './support/pipeline';
import { cliBinary, cliEnv, jsonLines, runCli, writeCliConfig } from './support/cli';

const SOAK_REQUESTS = Number(process.env.MAOF_SOAK_REQUESTS ?? 10_000);
const CLI_REQUESTS = 300;
const CONCURRENCY = 32;
const CHAOS = { rate: 0.2, kinds: [...RECOVERABLE_KINDS] };
const MODEL_OF: Record<string, string> = { oa: 'gpt-4.1-mini', an: 'claude-haiku-4-5' };
const REPLY = /^Simulated (gpt-4\.1-mini|claude-haiku-4-5) reply: req-(\d+)$/;

function soakConfig(addr: SimulatorAddress): MaofConfig {
  return relConfig(addr, {
    // Both providers are primaries: code starts at OpenAI, writing at Anthropic.
    routes: { code: ['oa', 'an'], writing: ['an', 'oa'] },
    retry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10, maxTotalMs: 60_000, maxRetryAfterMs: 1_000, jitter: 0.5 },
    // Breakers as users have them (5 consecutive failures). At 20 % chaos they open now and then;
    // when both are open at once, queued requests fail fast with CIRCUIT_OPEN — counted like any
    // other failure (they must still carry a code and never be lost).
    breaker: { failureThreshold: 5, resetTimeoutMs: 250 },
    cache: { enabled: false },
  });
}

/** The cost the simulator's own tally implies, model by model. */
function tallyCost(config: MaofConfig, tally: SimulatorTally): number {
  let usd = 0;
  for (const [model, c] of Object.entries(tally.byModel)) {
    const agent = config.agents.find((a) => a.model === model && a.baseUrl !== undefined);
    assert.ok(agent, `an agent for model ${model}`);
    usd += costOf({ inputTokens: c.inputTokens, outputTokens: c.outputTokens, cacheReadTokens: c.cacheReadTokens, cacheWriteTokens: c.cacheWriteTokens }, pricingFor(agent));
  }
  return usd;
}

interface Accounting {
  ok: number;
  failed: number;
  lost: number;
  /** Answers naming a request that already had one, or given under another request's index. */
  duplicated: number;
  failedCodes: Record<string, number>;
}

/** Checks each result against its own prompt: the answer at index n must echo "req-n", and only it. */
function account(results: ReadonlyArray<{ ok: boolean; text?: string; agent?: string; code?: string; message?: string } | undefined>, n: number): Accounting {
  const answersFor = new Map<number, number>();
  const out: Accounting = { ok: 0, failed: 0, lost: 0, duplicated: 0, failedCodes: {} };
  for (let i = 0; i < n; i++) {
    const r = results[i];
    if (!r) {
      out.lost++;
      continue;
    }
    if (r.ok) {
      const m = REPLY.exec(r.text ?? '');
      assert.ok(m, `result ${i} is an answer: ${r.text}`);
      assert.equal(m[1], MODEL_OF[r.agent ?? ''], `result ${i}'s text comes from the agent it names`);
      const answered = Number(m[2]);
      if (answered !== i) out.duplicated++;
      answersFor.set(answered, (answersFor.get(answered) ?? 0) + 1);
      out.ok++;
    } else {
      assert.ok(r.code && (ERROR_CODES as readonly string[]).includes(r.code), `result ${i} has an error code`);
      assert.ok(r.message, `result ${i} has a message`);
      assertSanitised(r.message);
      out.failed++;
      out.failedCodes[r.code] = (out.failedCodes[r.code] ?? 0) + 1;
    }
  }
  for (const count of answersFor.values()) out.duplicated += count - 1;
  // An answer produced twice upstream shows in the callers' check that the simulator's successes
  // equal the answers.
  return out;
}

describe('R2 soak: batch requests through 20 % chaos, nothing lost, nothing duplicated, ledger = tally', function () {
  const { sim, addr } = simulatorPerSuite();

  it(`${SOAK_REQUESTS.toLocaleString('en-US')} requests in-process through runBatch, concurrency ${CONCURRENCY}`, async function () {
    this.timeout(900_000);
    sim.setChaos({ ...CHAOS, seed: 20_250_601 });
    const dir = tempDir('soak');
    const config = soakConfig(addr());
    const store = new FileStateStore(path.join(dir, 'state.json'), scannedLogger('r2-store'));
    const { orchestrator } = buildOrchestrator('r2-soak', config, { store, keepEvents: false });

    let usage: Usage = ZERO_USAGE;
    let usageEvents = 0;
    let finished = 0;
    let finishedOk = 0;
    let costFromEvents = 0;
    orchestrator.events.on((e) => {
      if (e.type === 'usage') {
        usage = addUsage(usage, e.usage);
        usageEvents++;
        costFromEvents += e.costUsd;
      } else if (e.type === 'request.finished') {
        finished++;
        if (e.ok) finishedOk++;
      }
    });

    const jsonl = Array.from({ length: SOAK_REQUESTS }, (_, i) => JSON.stringify({ prompt: `req-${i}`, task: i % 2 === 0 ? 'code' : 'writing' })).join('\n');
    const items = parseBatch(jsonl);
    assert.equal(items.length, SOAK_REQUESTS);

    const reported: Array<ReturnType<typeof toJson> | undefined> = new Array<ReturnType<typeof toJson> | undefined>(SOAK_REQUESTS);
    let nextIndex = 0;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const results: RunResult[] = await runBatch(orchestrator, items, {
      concurrency: CONCURRENCY,
      onResult: (index, result) => {
        assert.equal(index, nextIndex++, 'results are reported once each, in input order');
        const line = toJson(result);
        leaks.scan('result:r2-soak', JSON.stringify(line));
        reported[index] = line;
      },
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpuUsed = process.cpuUsage(cpu);
    await orchestrator.flush();
    await store.flush();
    await sim.quiesce();

    assert.equal(results.length, SOAK_REQUESTS);
    assert.equal(nextIndex, SOAK_REQUESTS, 'every result was reported');
    const acc = account(
      reported.map((r) => (r ? { ok: r.ok, text: r.text, agent: r.agent, code: r.error?.code, message: r.error?.message } : undefined)),
      SOAK_REQUESTS,
    );
    assert.equal(acc.lost, 0, 'no request lost');
    assert.equal(acc.duplicated, 0, 'no answer duplicated');
    assert.equal(acc.ok + acc.failed, SOAK_REQUESTS, 'every request accounted for');
    assert.equal(finished, SOAK_REQUESTS, 'one request.finished event per request');
    assert.equal(finishedOk, acc.ok);

    // Each answer was produced upstream exactly once: no double sends, no answers billed twice.
    const tally = sim.tally();
    assert.equal(tally.succeeded, acc.ok, 'one successful upstream call per answer');
    assert.equal(usageEvents, acc.ok);
    assert.ok(tally.faulted > SOAK_REQUESTS * 0.1, `chaos really broke requests (${tally.faulted} faulted)`);

    // The ledger equals the simulator's own tally, to the token.
    assert.equal(usage.inputTokens, tally.inputTokens, 'input tokens');
    assert.equal(usage.outputTokens, tally.outputTokens, 'output tokens');
    assert.equal(usage.cacheReadTokens, tally.cacheReadTokens, 'cache-read tokens');
    assert.equal(usage.cacheWriteTokens, tally.cacheWriteTokens, 'cache-write tokens');
    const spend = orchestrator.ledger.summary();
    assert.equal(spend.requests, acc.ok, 'the ledger counts every billed request');
    assert.equal(spend.reservedUsd, 0, 'no reservation left behind');
    const expected = tallyCost(config, tally);
    // The ledger sums each request's cost in whole nano-dollars: at most half a nano-dollar off per request.
    assert.ok(Math.abs(spend.monthUsd - expected) <= acc.ok * 0.5e-9 + 1e-12, `ledger $${spend.monthUsd} vs tally $${expected}`);
    assert.ok(Math.abs(costFromEvents - expected) < 1e-6);
    // Persisted too: a fresh store over the same file reads the same spend.
    const reread = new FileStateStore(path.join(dir, 'state.json'));
    const { orchestrator: again } = buildOrchestrator('r2-reread', config, { store: reread });
    assert.equal(again.ledger.summary().monthUsd, spend.monthUsd);

    record('R2', {
      requests: SOAK_REQUESTS,
      ok: acc.ok,
      failed: acc.failed,
      failedCodes: Object.entries(acc.failedCodes)
        .map(([c, n]) => `${c} ${n}`)
        .join(', '),
      lost: acc.lost,
      duplicated: acc.duplicated + (tally.succeeded - acc.ok),
      upstreamRequests: tally.requests,
      upstreamFaulted: tally.faulted,
      inputTokens: tally.inputTokens,
      outputTokens: tally.outputTokens,
      ledgerUsd: spend.monthUsd,
      tallyUsd: Math.round(expected * 1e9) / 1e9,
      ledgerMatchesTally: 'equal',
      wallSeconds: Math.round(wallMs / 100) / 10,
      requestsPerSecond: Math.round(SOAK_REQUESTS / (wallMs / 1000)),
      cpuMsPerRequest: Math.round(((cpuUsed.user + cpuUsed.system) / 1000 / SOAK_REQUESTS) * 100) / 100,
    });
  });

  it(`${CLI_REQUESTS} requests through the built CLI binary (maof batch --json), same chaos`, async function () {
    this.timeout(180_000);
    cliBinary();
    sim.setChaos({ ...CHAOS, seed: 7 });
    const dir = tempDir('soak-cli');
    const config = soakConfig(addr());
    const configFile = writeCliConfig(path.join(dir, 'config.json'), config);
    const batchFile = path.join(dir, 'batch.jsonl');
    writeFileSync(batchFile, Array.from({ length: CLI_REQUESTS }, (_, i) => JSON.stringify({ prompt: `req-${i}`, task: i % 2 === 0 ? 'code' : 'writing' })).join('\n') + '\n');

    const run = await runCli('r2-cli-batch', ['batch', batchFile, '--concurrency', String(CONCURRENCY), '--json', '--config', configFile], cliEnv(dir), { timeoutMs: 170_000 });
    await sim.quiesce();
    const lines = jsonLines(run.stdout);
    assert.equal(lines.length, CLI_REQUESTS, 'one JSON line per request');
    const acc = account(
      lines.map((l) => {
        const error = l.error as { code?: string; message?: string } | undefined;
        return { ok: l.ok === true, text: l.text as string | undefined, agent: l.agent as string | undefined, code: error?.code, message: error?.message };
      }),
      CLI_REQUESTS,
    );
    assert.equal(acc.lost, 0);
    assert.equal(acc.duplicated, 0);
    assert.equal(run.code, acc.failed > 0 ? 1 : 0, `exit code (stderr: ${run.stderr})`);

    const tally = sim.tally();
    assert.equal(tally.succeeded, acc.ok, 'one successful upstream call per answer');
    let input = 0;
    let output = 0;
    for (const l of lines) {
      const u = l.usage as { inputTokens: number; outputTokens: number } | undefined;
      input += u?.inputTokens ?? 0;
      output += u?.outputTokens ?? 0;
    }
    assert.equal(input, tally.inputTokens + tally.cacheReadTokens + tally.cacheWriteTokens, 'input tokens printed = simulator tally');
    assert.equal(output, tally.outputTokens, 'output tokens printed = simulator tally');
    record('R2', { cliRequests: CLI_REQUESTS, cliOk: acc.ok, cliFailed: acc.failed, cliLost: acc.lost, cliDuplicated: acc.duplicated + (tally.succeeded - acc.ok), cliUpstreamRequests: tally.requests });
  });
});
