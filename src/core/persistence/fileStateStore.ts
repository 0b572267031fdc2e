// A StateStore backed by one JSON file, written atomically (temp file + fsync + rename) so that
// a crash in the middle of a write leaves the previous state intact, never half a ledger.
import { promises as fsp, readFileSync, readdirSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger, type StateStore } from '../ports';

export class FileStateStore implements StateStore {
  /**
   * Each key's value as JSON, serialised once when it is updated: that copy isolates the stored
   * value from later changes by the caller, and the file body is these strings joined, so a write
   * does not serialise the whole state again (the ledger alone is ~100 KB).
   */
  private readonly json = new Map<string, string>();
  /** Values parsed back on first get(). */
  private readonly parsed = new Map<string, unknown>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly logger: Logger = silentLogger,
  ) {
    this.load();
  }

  get path(): string {
    return this.file;
  }

  get<T>(key: string): T | undefined {
    if (this.parsed.has(key)) return this.parsed.get(key) as T | undefined;
    const json = this.json.get(key);
    if (json === undefined) return undefined;
    const value = JSON.parse(json) as unknown;
    this.parsed.set(key, value);
    return value as T;
  }

  update(key: string, value: unknown): Promise<void> {
    this.parsed.delete(key);
    const json = value === undefined ? undefined : JSON.stringify(value);
    // Like JSON.stringify of the whole object, a value with no JSON form (a function) drops the key.
    if (json === undefined) this.json.delete(key);
    else this.json.set(key, json);
    return this.scheduleWrite();
  }

  /** Resolves when everything updated so far is on disk. */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Temp files of writers that died mid-write (their pid is gone) are removed at start-up. */
  private removeStaleTempFiles(): void {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid !== process.pid && !processAlive(pid)) rmSync(join(dir, name), { force: true });
    }
  }

  private load(): void {
    this.removeStaleTempFiles();
    let raw: string;
    try {
      raw = readFileSync(this.file, 'utf8');
    } catch {
      return; // no state yet
    }
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      for (const [key, value] of Object.entries(parsed)) {
        this.json.set(key, JSON.stringify(value));
        this.parsed.set(key, value);
      }
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      try {
        renameSync(this.file, aside);
      } catch {
        /* keep going with empty state */
      }
      this.logger.warn(`MAOF state file was unreadable and was moved aside to ${aside}; starting from empty state.`);
    }
  }

  private scheduleWrite(): Promise<void> {
    if (this.dirty) return this.writing;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      let body = '{';
      for (const [key, json] of this.json) body += `${body.length > 1 ? ',' : ''}${JSON.stringify(key)}:${json}`;
      body += '}';
      const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        mkdirSync(dirname(this.file), { recursive: true });
        const handle = await fsp.open(tmp, 'w', 0o600);
        try {
          await handle.writeFile(body, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
        await fsp.rename(tmp, this.file);
      } catch (err) {
        this.logger.warn(`Could not save MAOF state to ${this.file}`, err);
        await fsp.rm(tmp, { force: true }).catch(() => undefined);
      }
    });
    return this.writing;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
