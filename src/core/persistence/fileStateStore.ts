// A StateStore backed by one JSON file, written atomically (temp file + fsync + rename) so that
// a crash in the middle of a write leaves the previous state intact, never half a ledger. Only a
// missing file means "no state yet": a file that exists but cannot be read or parsed is left alone
// and never overwritten until the user fixes it or resets it (`problem`, `reset()`).
import { promises as fsp, readFileSync, readdirSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger, type StateProblem, type StateStore } from '../ports';

export interface FileStateStoreOptions {
  /** Reads the state file (tests inject EACCES / EIO here); default: readFileSync as UTF-8. */
  readFile?: (file: string) => string;
  /** Moves the unusable file aside on reset (tests inject a failure); default: fs.promises.rename. */
  rename?: (from: string, to: string) => Promise<void>;
  /** How the user starts afresh on this surface, e.g. `run "MAOF: Reset Spend History"`. */
  resetHint?: string;
  /** How the user makes MAOF read the file again on this surface; default: `restart MAOF`. */
  restartHint?: string;
  /** Tells the user about an unusable file (the CLI writes it to stderr); default: a warning in the log. */
  onProblem?: (problem: StateProblem) => void;
}

/** The outcome of `reset()`: where the unusable file went, or why it could not be moved. */
export type StateResetResult = { ok: true; movedTo?: string } | { ok: false; message: string };

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

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
  private unusable: StateProblem | undefined;
  private readonly readFile: (file: string) => string;
  private readonly rename: (from: string, to: string) => Promise<void>;
  private readonly resetHint: string;
  private readonly restartHint: string;
  private readonly onProblem: ((problem: StateProblem) => void) | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger = silentLogger,
    options: FileStateStoreOptions = {},
  ) {
    this.readFile = options.readFile ?? ((f) => readFileSync(f, 'utf8'));
    this.rename = options.rename ?? ((from, to) => fsp.rename(from, to));
    this.resetHint = options.resetHint ?? 'move the file away';
    this.onProblem = options.onProblem;
    this.restartHint = options.restartHint ?? 'restart MAOF';
    this.load();
  }

  get path(): string {
    return this.file;
  }

  get problem(): StateProblem | undefined {
    return this.unusable;
  }

  get(key: string): unknown {
    if (this.parsed.has(key)) return this.parsed.get(key);
    const json = this.json.get(key);
    if (json === undefined) return undefined;
    const value = JSON.parse(json) as unknown;
    this.parsed.set(key, value);
    return value;
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
      raw = this.readFile(this.file);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return; // no state yet
      this.fail({
        kind: 'unreadable',
        file: this.file,
        code,
        message:
          `MAOF cannot read its saved spend and circuit-breaker state (${this.file}: ${code ?? 'read error'}). ` +
          `Until this is fixed nothing is saved there and requests that cost money are refused while a budget limit is set — ` +
          `fix the file's permissions or disk and ${this.restartHint}, or ${this.resetHint} to start from $0.`,
      }, err);
      return;
    }
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      for (const [key, value] of Object.entries(parsed)) {
        this.json.set(key, JSON.stringify(value));
        this.parsed.set(key, value);
      }
    } catch (err) {
      this.json.clear();
      this.parsed.clear();
      this.fail({
        kind: 'corrupt',
        file: this.file,
        message:
          `MAOF's saved spend and circuit-breaker state is damaged (${this.file} is not valid JSON). ` +
          `It was left as it is and nothing is saved there; requests that cost money are refused while a budget limit is set — ` +
          `restore the file from a backup and ${this.restartHint}, or ${this.resetHint} to start from $0.`,
      }, err);
    }
  }

  private fail(problem: StateProblem, err: unknown): void {
    this.unusable = problem;
    if (this.onProblem) {
      this.logger.debug(problem.message, err);
      this.onProblem(problem);
    } else {
      this.logger.warn(problem.message, err);
    }
  }

  /**
   * Starts afresh after the user chose to: moves the unusable file aside (the log says where),
   * clears the problem and writes what this session holds. Does nothing when there is no problem.
   */
  async reset(): Promise<StateResetResult> {
    const problem = this.unusable;
    if (!problem) return { ok: true };
    const aside = `${this.file}.${problem.kind}-${Date.now()}`;
    try {
      await this.rename(this.file, aside);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT') {
        this.logger.warn(`Could not move the MAOF state file aside (${code ?? 'error'}); it is still not overwritten.`, err);
        return { ok: false, message: `MAOF could not move ${this.file} aside (${code ?? 'error'}) — move or delete it yourself, then ${this.restartHint}.` };
      }
      this.unusable = undefined;
      this.logger.warn(`The MAOF state file ${this.file} was already gone; starting from empty state.`);
      await this.scheduleWrite();
      return { ok: true };
    }
    this.unusable = undefined;
    this.logger.warn(`The unusable MAOF state file was moved aside to ${aside}; starting from empty state.`);
    await this.scheduleWrite();
    return { ok: true, movedTo: aside };
  }

  private scheduleWrite(): Promise<void> {
    // Never replace a file we could not read: it may hold the only record of this month's spend.
    if (this.unusable) return this.writing;
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
