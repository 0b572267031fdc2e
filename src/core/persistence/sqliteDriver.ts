// The part of Node's built-in `node:sqlite` (DatabaseSync, Node ≥ 22.13) MAOF uses, loaded on
// first use rather than imported: an older Node (the CLI under Node 20) or an editor whose runtime
// lacks the module gets a clear message instead of a crash while the module graph loads, and the
// bundle keeps `node:sqlite` external (esbuild.js) — no native module to rebuild per Electron ABI.
export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

export type OpenSqlDatabase = (file: string) => SqlDatabase;

/** The oldest Node whose `node:sqlite` works without a flag. */
export const SQLITE_MIN_NODE = '22.13';

/** Whether this Node is at least `min` ("22.13"). */
export function nodeAtLeast(min: string, version: string = process.versions.node): boolean {
  const have = version.split('.').map(Number);
  const want = min.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    const h = have[i] ?? 0;
    if (h !== want[i]) return h > want[i];
  }
  return true;
}

/** Opens databases with `node:sqlite`, or says why it cannot (an Error whose message is for the user). */
export function loadSqlite(): OpenSqlDatabase | Error {
  let mod: { DatabaseSync: new (file: string) => SqlDatabase } | undefined;
  let reason = 'the module is missing';
  try {
    // getBuiltinModule, not import/require: nothing resolves it at load time, and a runtime without it says undefined.
    mod = process.getBuiltinModule('node:sqlite') as typeof mod;
  } catch (err) {
    reason = err instanceof Error ? (err.message.split('\n')[0] ?? reason) : String(err);
  }
  if (!mod?.DatabaseSync) return new Error(`this runtime (Node ${process.versions.node}) has no built-in SQLite: node:sqlite needs Node ${SQLITE_MIN_NODE} or later (${reason})`);
  return (file) => new mod.DatabaseSync(file);
}
