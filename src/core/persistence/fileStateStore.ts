// A StateStore backed by one JSON file, written atomically (temp file + fsync + rename) so that
// a crash in the middle of a write leaves the previous state intact, never half a ledger.
import { promises as fsp, readFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger, type StateStore } from '../ports';

export class FileStateStore implements StateStore {
  private data: Record<string, unknown> = {};
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
    return this.data[key] as T | undefined;
  }

  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) delete this.data[key];
    else this.data[key] = JSON.parse(JSON.stringify(value)) as unknown;
    return this.scheduleWrite();
  }

  /** Resolves when everything updated so far is on disk. */
  flush(): Promise<void> {
    return this.writing;
  }

  private load(): void {
    let raw: string;
    try {
      raw = readFileSync(this.file, 'utf8');
    } catch {
      return; // no state yet
    }
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) this.data = parsed as Record<string, unknown>;
      else throw new Error('not an object');
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
      const body = JSON.stringify(this.data);
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
