// `maof` — the headless CLI over the same core the extension runs:
//   maof ask [--task T | --agent A] [--config F] [--json] PROMPT
//   maof batch FILE.jsonl [--concurrency N] [--config F] [--json]
//   maof breakers [reset [AGENT]] [--config F] [--json]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { MaofError, toMaofError } from '../core/errors';
import { Orchestrator, type RunResult } from '../core/orchestrator';
import { userTurn } from '../core/types';
import { SqliteStore } from '../core/persistence/sqliteStore';
import { importLegacyState } from '../core/persistence/importLegacy';
import { LEDGER_DB_FILE, userStateDir } from '../core/persistence/stateDir';
import { SQLITE_MIN_NODE, nodeAtLeast } from '../core/persistence/sqliteDriver';
import { MemoryStateStore, type StateStore } from '../core/ports';
import { createRedactingLogger, scrub, type LogLevel } from '../core/logging/redactingLogger';
import { formatUsd } from '../core/cost/costCalculator';
import { formatCost } from '../shared/format';
import { ACTION_IDS, ACTIONS, errorLabel, paletteFix, WAIT_VOCABULARY } from '../shared/errorVocabulary';
import { formatIssues } from '../core/config/schema';
import { bufferedOutput } from './bufferedOutput';
import { EnvSecretSource } from './envSecretSource';
import { loadConfigFile, userConfigDir } from './configFile';
import { readBatchFile, runBatch } from './batch';
import { AnswerView } from './answerView';
import { breakerRows, formatBreakerTable, resetBreakers } from './breakersCommand';

/** What the CLI says on a Node without node:sqlite (issue 19 §7). */
export const NODE_TOO_OLD = `MAOF's CLI needs Node ${SQLITE_MIN_NODE} or later (this is Node ${process.versions.node}): it keeps your spend in Node's built-in SQLite, shared with VS Code. Install a current Node (nodejs.org, or nvm install 24) and run maof again.`;

const USAGE = `Usage:
  maof ask [--task T | --agent A] [--config F] [--json] PROMPT
  maof batch FILE.jsonl [--concurrency N] [--config F] [--json]
  maof breakers [--config F] [--json]     each agent's circuit breaker
  maof breakers reset [AGENT] [--config F] reset one agent's breaker, or all

Options:
  --task T         code, writing, analysis, a task of your config, or auto (default)
  --agent A        send to this agent only (no fallback)
  --config F       config file (same schema as the VS Code settings "maof.*");
                   default: ${join(userConfigDir(), 'config.json')}
  --json           one JSON object per request on stdout
  --concurrency N  parallel requests for batch (default 4)
  --no-stream      print the answer at the end instead of streaming it
  --verbose        log retries, fallbacks and breakers to stderr
Keys come from the environment: OPENAI_API_KEY, ANTHROPIC_API_KEY, or an agent's apiKeyEnv.`;

export interface JsonResult {
  ok: boolean;
  task: string;
  agent?: string;
  text?: string;
  /** elapsedMs: time at the provider for that attempt (long behind a gateway that retries itself). */
  attempts: Array<{ agent: string; outcome: string; status?: number; waitMs?: number; elapsedMs?: number }>;
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
  /** The provider reported no usage: usage and cost are counted with the tokenizer. */
  usageEstimated?: boolean;
  /** Answered from MAOF's own response cache (no provider call); `responseCacheSavedUsd` is what that call had cost. */
  cached?: boolean;
  responseCacheSavedUsd?: number;
  /** Saved by the provider's prompt cache (cached input at its discount, less the cache-write premium). */
  promptCacheSavedUsd?: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInputTokens?: number;
  error?: { code: string; message: string };
}

/** Each editor fix a core message may name (`run "MAOF: Set API Key"`) and the vocabulary's terminal words for it. */
const CLI_FIXES: ReadonlyArray<readonly [string, string]> = ACTION_IDS.flatMap((id) => {
  const editor = paletteFix(id);
  const cli = ACTIONS[id].cli;
  return editor && cli ? [[editor, cli] as const] : [];
});

/** Messages name the editor's fix; in a terminal the fix is an environment variable, a config file or `maof breakers reset`. */
export function cliMessage(message: string): string {
  // An agent with its own endpoint needs its own key: in a terminal, its own variable.
  let out = message.replace(/run "MAOF: Set API Key" and pick the agent/g, "set the environment variable named by the agent's apiKeyEnv");
  for (const [editor, cli] of CLI_FIXES) out = out.replaceAll(editor, cli);
  return out;
}

/** The vocabulary's words for a terminal: straight apostrophes. */
const plain = (s: string): string => s.replace(/’/g, "'");

export function toJson(result: RunResult): JsonResult {
  const attempts = result.attempts.map((a) => ({
    agent: a.agent,
    outcome: a.outcome,
    ...(a.status !== undefined ? { status: a.status } : {}),
    ...(a.waitMs !== undefined ? { waitMs: a.waitMs } : {}),
    ...(a.elapsedMs !== undefined ? { elapsedMs: a.elapsedMs } : {}),
  }));
  if (!result.ok) return { ok: false, task: result.task, error: { code: result.error.code, message: cliMessage(result.error.message) }, attempts };
  return {
    ok: true,
    task: result.task,
    agent: result.agentId,
    text: result.text,
    attempts,
    usage: { inputTokens: result.usage.inputTokens + result.usage.cacheReadTokens + result.usage.cacheWriteTokens, outputTokens: result.usage.outputTokens },
    costUsd: Math.round(result.costUsd * 1e8) / 1e8,
    ...(result.usageEstimated ? { usageEstimated: true } : {}),
    cached: result.cached,
    ...(result.responseCacheSavedUsd !== undefined ? { responseCacheSavedUsd: Math.round(result.responseCacheSavedUsd * 1e8) / 1e8 } : {}),
    ...(result.promptCacheSavedUsd !== undefined ? { promptCacheSavedUsd: Math.round(result.promptCacheSavedUsd * 1e8) / 1e8, cachedInputTokens: result.usage.cacheReadTokens } : {}),
  };
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  isTty: boolean;
  /** The terminal's size when stdout is one (to erase a restarted answer). */
  columns?: number;
  rows?: number;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        task: { type: 'string' },
        agent: { type: 'string' },
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'no-stream': { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`maof: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command !== 'ask' && command !== 'batch' && command !== 'breakers') {
    io.err(`maof: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  if (values.task && values.agent) {
    io.err('maof: use --task or --agent, not both\n');
    return 2;
  }

  let loaded;
  try {
    loaded = loadConfigFile(values.config, io.env);
  } catch (err) {
    io.err(`maof: ${toMaofError(err).message}\n`);
    return 2;
  }
  const secrets = new EnvSecretSource(loaded.config.agents, io.env);
  const known = secrets.knownValues();
  const level: LogLevel = values.verbose ? 'debug' : ((io.env.MAOF_LOG_LEVEL as LogLevel | undefined) ?? 'warn');
  const logger = createRedactingLogger((lvl, line) => io.err(`[${lvl}] ${line}\n`), { level, knownSecrets: () => known });
  if (loaded.issues.length > 0) logger.warn(`Config ${loaded.source}: ${formatIssues(loaded.issues)}`);

  let store: StateStore & { flush?: () => Promise<void>; close?: () => void };
  if (io.env.MAOF_NO_STATE === '1') store = new MemoryStateStore();
  else {
    // Before anything is sent: an older Node has no node:sqlite, so no ledger to keep the budget in.
    if (!nodeAtLeast(SQLITE_MIN_NODE)) {
      io.err(`${NODE_TOO_OLD}\n`);
      return 2;
    }
    const dir = userStateDir(io.env, loaded.config.storage.dir);
    const ledgerStore = new SqliteStore(join(dir, LEDGER_DB_FILE), logger, { restartHint: 'run maof again', resetHint: `move ${join(dir, LEDGER_DB_FILE)} away`, historyMonths: loaded.config.storage.historyMonths, onProblem: (p) => io.err(`maof: ${p.message}\n`) });
    // The file this CLI kept before the shared ledger: where MAOF_STATE_DIR or the config directory put it.
    importLegacyState(ledgerStore, [join(io.env.MAOF_STATE_DIR ?? userConfigDir(io.env), 'state.json')], logger);
    store = ledgerStore;
  }
  const orchestrator = new Orchestrator({ config: loaded.config, secrets, store, logger });
  if (values.verbose) {
    orchestrator.events.on((e) => {
      if (e.type === 'retry.scheduled') logger.info(`retry ${e.agentId} after ${errorLabel(e.code)} (${e.code}), waiting ${e.waitMs} ms`);
      else if (e.type === 'fallback') logger.info(`fallback ${e.from} → ${e.to} (${errorLabel(e.reason)})`);
      else if (e.type === 'breaker.changed') logger.info(`breaker ${e.agentId}: ${e.from} → ${e.to}${e.reason ? ` (${errorLabel(e.reason)})` : ''}`);
      else if (e.type === 'budget.alert') logger.warn(`budget alert: ${Math.round(e.fraction * 100)} % of the ${e.period}ly limit (${formatUsd(e.spentUsd)} of ${formatUsd(e.limitUsd)})`);
    });
  }
  // A wait is news even without --verbose: the user sees why nothing moves (stderr keeps --json clean).
  let lastWait = '';
  orchestrator.events.onType('waiting', (e) => {
    // A batch's requests share one pause: say it once, not once per request.
    const key = `${e.reason}|${e.agentId ?? ''}|${Math.ceil(e.until / 1000)}`;
    if (key === lastWait) return;
    lastWait = key;
    io.err(`[maof] waiting up to ${Math.max(1, Math.ceil((e.until - e.at) / 1000))} s ${plain(WAIT_VOCABULARY[e.reason].forWhat)}${e.agentId ? ` (${e.agentId})` : ''}…\n`);
  });
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const safe = (s: string): string => scrub(s, known);

  try {
    if (command === 'breakers') {
      const agentIds = loaded.config.agents.map((a) => a.id);
      const [sub, agent, ...extra] = rest;
      if (sub === undefined) {
        const rows = breakerRows(orchestrator.breakers, agentIds);
        // --json adds what the table leaves out: each agent's measured latency and the deadlines in force.
        io.out(values.json ? `${JSON.stringify({ breakers: rows, latency: orchestrator.latencyReport() })}\n` : `${formatBreakerTable(rows)}\n`);
        return 0;
      }
      if (sub !== 'reset' || extra.length > 0) {
        io.err(`maof: breakers takes "reset [AGENT]" or nothing, e.g. maof breakers reset ${agentIds[0] ?? 'AGENT'}\n`);
        return 2;
      }
      // An agent skipped as out of credit is asked again after a reset, even with its breaker closed.
      const outOfCredit = agentIds.filter((id) => (agent === undefined || id === agent) && orchestrator.credit.has(id));
      const tripped = resetBreakers(orchestrator.breakers, agentIds, agent);
      const reset = [...tripped, ...outOfCredit.filter((id) => !tripped.includes(id))];
      if (values.json) io.out(`${JSON.stringify({ reset })}\n`);
      else if (reset.length === 0) io.out(agent ? `The breaker of ${agent} had nothing to reset.\n` : 'Every breaker was already closed with no failures.\n');
      else io.out(`Reset the breaker${reset.length === 1 ? '' : 's'} of ${reset.join(', ')}.\n`);
      return 0;
    }
    if (command === 'ask') {
      const prompt = rest.join(' ');
      if (!prompt.trim()) {
        io.err('maof: ask needs a prompt, e.g. maof ask "explain this regex: ^a+$"\n');
        return 2;
      }
      const stream = !values.json && !values['no-stream'];
      // Deltas only on a terminal, where a restarted attempt can be erased; a pipe or a file gets
      // the final answer alone (a cut stream's partial text would otherwise precede it).
      const view = stream && io.isTty ? new AnswerView({ write: (s) => io.out(s), columns: io.columns ?? 80, rows: io.rows ?? 24 }) : undefined;
      let streamed = false;
      const result = await orchestrator.run({
        messages: [userTurn(prompt)],
        source: 'CLI',
        task: values.task ?? 'auto',
        agentId: values.agent,
        stream,
        signal: controller.signal,
        onDelta: view
          ? (t) => {
              streamed = true;
              view.delta(safe(t));
            }
          : undefined,
        onRestart: view
          ? (agent) => {
              streamed = false;
              view.restart(agent);
            }
          : undefined,
      });
      if (values.json) io.out(`${safe(JSON.stringify(toJson(result)))}\n`);
      else if (result.ok) {
        if (!streamed) io.out(safe(result.text));
        io.out('\n');
        io.err(`[maof] ${result.agentId} · ${result.task} · ${formatCost(result.costUsd, result.usageEstimated)}${result.cached ? ' · cached' : ''}${result.attempts.length > 1 ? ` · ${result.attempts.length} attempts` : ''}\n`);
      } else io.err(`maof: ${safe(cliMessage(result.error.message))} [${result.error.code}]\n`);
      return result.ok ? 0 : 1;
    }

    const file = rest[0];
    if (!file) {
      io.err('maof: batch needs a JSONL file, e.g. maof batch prompts.jsonl\n');
      return 2;
    }
    const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      io.err('maof: --concurrency must be a whole number from 1 to 256\n');
      return 2;
    }
    const items = readBatchFile(file);
    let failed = 0;
    await runBatch(orchestrator, items, {
      concurrency,
      signal: controller.signal,
      onResult: (index, result) => {
        if (!result.ok) failed++;
        if (values.json) io.out(`${safe(JSON.stringify(toJson(result)))}\n`);
        else if (result.ok) io.out(`[${index + 1}] ${result.agentId}: ${safe(result.text)}\n`);
        else io.out(`[${index + 1}] error ${result.error.code}: ${safe(cliMessage(result.error.message))}\n`);
      },
    });
    if (!values.json) io.err(`[maof] ${items.length} requests, ${failed} failed\n`);
    return failed > 0 ? 1 : 0;
  } catch (err) {
    const e = err instanceof MaofError ? err : toMaofError(err);
    io.err(`maof: ${safe(e.message)}\n`);
    if (e.detail) logger.debug(e.detail);
    return e.code === 'CONFIG' || e.code === 'BAD_REQUEST' ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await orchestrator.flush();
    await store.flush?.();
    store.close?.();
  }
}

if (require.main === module) {
  const stdout = bufferedOutput((s) => process.stdout.write(s));
  main(process.argv.slice(2), {
    out: (s) => stdout.write(s),
    // Both streams may be one terminal: what stdout holds goes first, so lines keep their order.
    err: (s) => {
      stdout.flush();
      process.stderr.write(s);
    },
    env: process.env,
    isTty: process.stdout.isTTY === true,
    columns: process.stdout.columns,
    rows: process.stdout.rows,
  }).then(
    (code) => {
      stdout.flush();
      process.exitCode = code;
    },
    (err: unknown) => {
      stdout.flush();
      process.stderr.write(`maof: ${toMaofError(err).message}\n`);
      process.exitCode = 1;
    },
  );
}
