// What the whole reliability stage shares: the fake keys of this run, the leak scanner every test
// feeds, the figures each section records, and the root `after` hook that scans what is left on
// disk, prints the summary table and writes test-artifacts/reliability/summary.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const ARTIFACT_DIR = path.join(ROOT, 'test-artifacts', 'reliability');

/**
 * Distinctive fake keys, new for every run. The gateway key is deliberately not key-shaped (no
 * "sk-" prefix, short): only the exact-value scrubbing of the loggers can catch it.
 */
export const KEYS = {
  openai: `sk-leakcheck-openai-${randomBytes(16).toString('hex')}`,
  anthropic: `sk-ant-leakcheck-${randomBytes(16).toString('hex')}`,
  gateway: `gw-leakcheck-${randomBytes(6).toString('hex')}`,
} as const;

export const ALL_KEYS: readonly string[] = Object.values(KEYS);

/** Each key and its random tail: a tail alone (a key cut or partly masked) is a leak too. */
const NEEDLES: ReadonlyArray<{ name: string; needle: string }> = Object.entries(KEYS).flatMap(([name, key]) => [
  { name, needle: key },
  { name: `${name} (tail)`, needle: key.slice(key.lastIndexOf('-') + 1) },
]);

export interface LeakHit {
  source: string;
  key: string;
}

/**
 * Scans everything the suite shows, logs, prints or persists for the keys. Text is scanned as it
 * arrives (so 10,000 soak results need not be kept); directories are scanned at the very end.
 */
export class LeakScanner {
  items = 0;
  bytes = 0;
  readonly hits: LeakHit[] = [];
  /** Keys seen by a logger before its redaction ran: defence in depth, reported, not a failure. */
  rawLogHits = 0;
  readonly sources = new Map<string, number>();
  private readonly dirs = new Set<string>();

  scan(source: string, text: string): void {
    this.items++;
    this.bytes += text.length;
    const kind = source.split(':')[0] ?? source;
    this.sources.set(kind, (this.sources.get(kind) ?? 0) + 1);
    for (const { name, needle } of NEEDLES) if (text.includes(needle)) this.hits.push({ source, key: name });
  }

  /** Text that goes to a logger before redaction: counted apart. */
  scanRaw(text: string): void {
    for (const { needle } of NEEDLES) if (text.includes(needle)) this.rawLogHits++;
  }

  /** Directories whose files (state, config, saved output) are scanned after the last test. */
  watchDir(dir: string): void {
    this.dirs.add(dir);
  }

  scanWatchedDirs(): void {
    for (const dir of this.dirs) this.scanTree(dir, dir);
  }

  private scanTree(root: string, p: string): void {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) this.scanTree(root, path.join(p, name));
    } else if (st.isFile()) {
      this.scan(`file:${path.relative(path.dirname(root), p)}`, readFileSync(p, 'latin1'));
    }
  }
}

export const leaks = new LeakScanner();

// ---- temporary directories ----------------------------------------------------------------------

const tempDirs: string[] = [];

/** A fresh directory, scanned for keys (unless it holds only build output) and removed after the stage. */
export function tempDir(label: string, opts: { scan?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), `maof-rel-${label}-`));
  tempDirs.push(dir);
  if (opts.scan !== false) leaks.watchDir(dir);
  return dir;
}

// ---- figures --------------------------------------------------------------------------------------

export type Figure = number | string | boolean;

/** Figures by section ("R1", "R2"...): each test records what it measured. */
export const figures: Record<string, Record<string, Figure>> = {};

export function record(section: string, values: Record<string, Figure>): void {
  figures[section] = { ...(figures[section] ?? {}), ...values };
}

export function bump(section: string, key: string, by = 1): void {
  const current = figures[section]?.[key];
  record(section, { [key]: (typeof current === 'number' ? current : 0) + by });
}

/** Upstream requests seen by every simulator of the stage (added when a simulator is reset or stopped). */
let upstreamRequests = 0;
export function countUpstream(n: number): void {
  upstreamRequests += n;
}

// ---- the summary ------------------------------------------------------------------------------------

function num(v: Figure | undefined): string {
  if (v === undefined) return 'n/a';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
  return String(v);
}

function renderTable(rows: Array<[string, string]>): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  const line = '-'.repeat(w + 2 + Math.max(...rows.map(([, v]) => v.length)));
  return ['MAOF reliability & security summary', line, ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`), line].join('\n');
}

function summaryRows(): Array<[string, string]> {
  const f = (s: string, k: string): Figure | undefined => figures[s]?.[k];
  const usd = (v: Figure | undefined): string => (typeof v === 'number' ? `$${v.toFixed(9)}` : 'n/a');
  return [
    ['R1 fault matrix cells passed', `${num(f('R1', 'cellsPassed'))} / ${num(f('R1', 'cells'))}`],
    ['R2 soak requests (batch, in-process)', `${num(f('R2', 'requests'))} → ok ${num(f('R2', 'ok'))}, failed ${num(f('R2', 'failed'))}${f('R2', 'failedCodes') ? ` (${num(f('R2', 'failedCodes'))})` : ''}`],
    ['R2 soak lost / duplicated', `${num(f('R2', 'lost'))} / ${num(f('R2', 'duplicated'))}`],
    ['R2 soak upstream requests (20 % chaos)', num(f('R2', 'upstreamRequests'))],
    ['R2 ledger vs simulator tally', `${num(f('R2', 'ledgerMatchesTally'))} (in ${num(f('R2', 'inputTokens'))}, out ${num(f('R2', 'outputTokens'))} tokens)`],
    ['R2 soak throughput', `${num(f('R2', 'requestsPerSecond'))} req/s, ${num(f('R2', 'cpuMsPerRequest'))} ms CPU/request`],
    ['R2 CLI binary batch', `${num(f('R2', 'cliRequests'))} requests → ok ${num(f('R2', 'cliOk'))}, lost ${num(f('R2', 'cliLost'))}, duplicated ${num(f('R2', 'cliDuplicated'))}`],
    ['R3 budget race', `${num(f('R3', 'sent'))} sent, ${num(f('R3', 'refused'))} refused BUDGET_EXCEEDED of ${num(f('R3', 'requests'))}; overshoot ${usd(f('R3', 'overshootUsd'))}`],
    ['R4 bad inputs refused cleanly', num(f('R4', 'refused'))],
    ['R5 secret leaks', `${leaks.hits.length} hits in ${leaks.items.toLocaleString('en-US')} items (${(leaks.bytes / 1e6).toFixed(1)} MB) for ${ALL_KEYS.length} keys`],
    ['R5 keys reaching a logger pre-redaction', String(leaks.rawLogHits)],
    ['R6 persistence', `restarts ${num(f('R6', 'restarts'))}, SIGKILLs survived ${num(f('R6', 'killsSurvived'))} / ${num(f('R6', 'kills'))}, unreadable / garbage files kept ${num(f('R6', 'unreadableKept'))} / 2`],
    ['R7 cancellations (upstream closed, $0 held)', `${num(f('R7', 'passed'))} / ${num(f('R7', 'cases'))}`],
    ['R10 one answer on a terminal, pipe, file', `${num(f('R10', 'passed'))} / 4 cases`],
    ['R12 history: dashboard = export = maof usage', `${num(f('R12', 'requests'))} requests, agree ${num(f('R12', 'agreed'))} (this month $${num(f('R12', 'thisMonthUsd'))}, last month $${num(f('R12', 'lastMonthUsd'))}; seeded in ${num(f('R12', 'seedMs'))} ms)`],
    ['upstream requests, whole stage', upstreamRequests.toLocaleString('en-US')],
    ['CLI binary', num(f('env', 'cliBinary'))],
  ];
}

const started = Date.now();

// A root hook: registered when the first test file imports this module, it runs after every test.
after(function () {
  this.timeout(60_000);
  leaks.scanWatchedDirs();
  const rows = summaryRows();
  const out = {
    at: new Date().toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    leaks: { hits: leaks.hits.length, items: leaks.items, bytes: leaks.bytes, keys: ALL_KEYS.length, rawLogHits: leaks.rawLogHits, sources: Object.fromEntries(leaks.sources), where: leaks.hits },
    upstreamRequests,
    figures,
  };
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  writeFileSync(path.join(ARTIFACT_DIR, 'summary.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\n${renderTable(rows)}\n(written to ${path.relative(ROOT, path.join(ARTIFACT_DIR, 'summary.json'))})\n`);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  if (leaks.hits.length > 0) {
    const where = [...new Set(leaks.hits.map((h) => `${h.key} in ${h.source}`))].slice(0, 20).join('; ');
    throw new Error(`R5: ${leaks.hits.length} secret leak(s): ${where}`);
  }
});
