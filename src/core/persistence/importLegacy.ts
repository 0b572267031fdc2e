// Issue 19 §5: the state.json files MAOF kept before the shared ledger (the CLI's, and each VS Code
// profile's global storage) are imported once — spend, history, breakers — and then kept, renamed
// `state.json.imported-<date>`. The import and the record of its content hash are one transaction,
// so a file imported before (renamed back, copied, or a rename that failed) never counts twice.
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { LEDGER_STATE_KEY, salvageLedger } from '../cost/costLedger';
import { usdToNano } from '../cost/costCalculator';
import type { Logger, UsageRow } from '../ports';
import type { SqliteStore } from './sqliteStore';

export interface ImportOutcome {
  file: string;
  /** imported now, seen before (not counted again), or left alone (unreadable, not JSON). */
  result: 'imported' | 'already' | 'skipped';
  movedTo?: string;
  spentUsd?: number;
}

/** Who the carried-over spend (days whose entries the old 500-entry file no longer held) is booked to. */
export const CARRIED_OVER = '(before the history)';

function dayTotals(byDay: Map<string, number>, rows: UsageRow[]): UsageRow[] {
  const held = new Map<string, number>();
  for (const r of rows) {
    const day = new Date(r.at).toISOString().slice(0, 10);
    held.set(day, (held.get(day) ?? 0) + r.costNano);
  }
  const out: UsageRow[] = [];
  for (const [day, total] of byDay) {
    const rest = total - (held.get(day) ?? 0);
    if (rest <= 0) continue;
    out.push({
      requestId: `carried-over-${day}`, at: Date.parse(`${day}T00:00:00Z`), source: 'imported', task: CARRIED_OVER, agentId: CARRIED_OVER, model: '',
      inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costNano: rest, savedNano: 0, cached: false, outcome: 'carried-over',
    });
  }
  return out;
}

function rowsOf(raw: unknown, logger: Logger): { rows: UsageRow[]; byDay: Map<string, number> } {
  const problems: string[] = [];
  const ledger = salvageLedger(raw ?? { v: 1, byDay: {}, entries: [] }, problems);
  if (raw !== undefined && problems.length > 0) logger.warn(`Import of the old spend file kept what was valid (${problems.join('; ')}).`);
  const rows = ledger.entries.map((e): UsageRow => ({
    requestId: e.requestId, at: e.at, source: e.source ?? 'other', task: e.task, agentId: e.agentId, model: e.model,
    inputTokens: e.usage.inputTokens, outputTokens: e.usage.outputTokens, cacheReadTokens: e.usage.cacheReadTokens, cacheWriteTokens: e.usage.cacheWriteTokens,
    costNano: usdToNano(e.costUsd), savedNano: 0, cached: e.cached, outcome: e.cached && e.costUsd === 0 ? 'cache-hit' : 'ok',
  }));
  return { rows, byDay: ledger.byDay };
}

function moveAside(file: string, logger: Logger, now: number): string | undefined {
  const to = `${file}.imported-${new Date(now).toISOString().slice(0, 10)}${existsSync(`${file}.imported-${new Date(now).toISOString().slice(0, 10)}`) ? `-${now}` : ''}`;
  try {
    renameSync(file, to);
    return to;
  } catch (err) {
    logger.warn(`Imported ${file} but could not rename it; it will not be counted again.`, err);
    return undefined;
  }
}

/** Imports each old state file that exists into `store` (once), then renames it. */
export function importLegacyState(store: SqliteStore, files: readonly string[], logger: Logger, now: number = Date.now()): ImportOutcome[] {
  const out: ImportOutcome[] = [];
  for (const file of new Set(files)) {
    if (!existsSync(file)) continue;
    let text: string;
    let data: Record<string, unknown>;
    try {
      text = readFileSync(file, 'utf8');
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      data = parsed as Record<string, unknown>;
    } catch (err) {
      logger.warn(`The old MAOF state file ${file} could not be read or parsed; it was left as it is and not imported.`, err);
      out.push({ file, result: 'skipped' });
      continue;
    }
    const id = createHash('sha256').update(text).digest('hex');
    const { rows, byDay } = rowsOf(data[LEDGER_STATE_KEY], logger);
    const all = [...rows, ...dayTotals(byDay, rows)];
    const done = store.withDatabase((db) => {
      if (db.get('SELECT id FROM imports WHERE id = ?', id)) return false;
      db.run('INSERT INTO imports(id, file, at) VALUES (?, ?, ?)', id, file, now);
      for (const row of all) store.insertEntry(row);
      for (const [key, value] of Object.entries(data)) {
        // The shared store's own value is newer than an old file's; the ledger is imported as rows above.
        if (key === LEDGER_STATE_KEY || db.get('SELECT 1 AS x FROM kv WHERE key = ?', key)) continue;
        db.run('INSERT INTO kv(key, value, rev) VALUES (?, ?, 1)', key, JSON.stringify(value));
      }
      return true;
    }, true);
    if (done === undefined) return out; // the database is not usable: keep every file for later
    const movedTo = moveAside(file, logger, now);
    const spentUsd = all.reduce((sum, r) => sum + r.costNano, 0) / 1e9;
    if (done) logger.info(`Imported the old MAOF state ${file} ($${spentUsd.toFixed(4)} of spend, ${rows.length} requests).`);
    out.push({ file, result: done ? 'imported' : 'already', ...(movedTo ? { movedTo } : {}), ...(done ? { spentUsd } : {}) });
  }
  return out;
}

/**
 * The old state files the editor knows of: this profile's global storage, every other profile's
 * (User/profiles/<id>/globalStorage/<extension>), the default profile's, and the CLI's.
 */
export function editorLegacyFiles(globalStorage: string, cliStateFile: string): string[] {
  const ext = basename(globalStorage);
  const storageRoot = dirname(globalStorage); // …/User[/profiles/<id>]/globalStorage
  let user = dirname(storageRoot);
  if (basename(dirname(user)) === 'profiles') user = dirname(dirname(user));
  const files = [join(globalStorage, 'state.json'), join(user, 'globalStorage', ext, 'state.json')];
  try {
    for (const profile of readdirSync(join(user, 'profiles'))) files.push(join(user, 'profiles', profile, 'globalStorage', ext, 'state.json'));
  } catch {
    // no other profiles
  }
  files.push(cliStateFile);
  return files;
}
