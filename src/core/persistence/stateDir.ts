// Where the one ledger of a user lives, for the CLI and every editor window alike: the platform's
// per-user state directory, unless MAOF_STATE_DIR or the setting `maof.storage.dir` says otherwise.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The database's file name inside the state directory. */
export const LEDGER_DB_FILE = 'maof.db';

/** MAOF_STATE_DIR, then the setting, then Linux $XDG_STATE_HOME/maof or ~/.local/state/maof, macOS ~/Library/Application Support/maof, Windows %LOCALAPPDATA%\maof. */
export function userStateDir(env: NodeJS.ProcessEnv, setting?: string, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env.MAOF_STATE_DIR) return env.MAOF_STATE_DIR;
  if (setting && setting.trim() !== '') return setting.replace(/^~(?=$|[\\/])/, home);
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'maof');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'maof');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'maof');
}

/** The CLI's config directory (MAOF_HOME, or the platform's), where the CLI kept state.json before the shared ledger. */
export function cliConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env.MAOF_HOME) return env.MAOF_HOME;
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'maof');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'maof');
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'maof');
}
