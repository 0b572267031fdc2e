// Finds and reads the CLI's config file (same schema as the VS Code settings) and where the CLI
// keeps its state (ledger, breakers).
import { cliConfigDir } from '../core/persistence/stateDir';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MaofError } from '../core/errors';
import { parseConfig, type ParsedConfig } from '../core/config/schema';

const MAX_CONFIG_BYTES = 1_000_000;

export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return cliConfigDir(env);
}

export function loadConfigFile(path: string | undefined, env: NodeJS.ProcessEnv = process.env): ParsedConfig & { source: string } {
  const file = path ?? join(userConfigDir(env), 'config.json');
  let raw: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) throw new MaofError('CONFIG', `Config file ${file} is over 1 MB — is it the right file?`);
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof MaofError) throw err;
    if (path === undefined) return { ...parseConfig({}), source: 'built-in defaults' };
    throw new MaofError('CONFIG', `Cannot read config file ${file} — check the path given to --config.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    const where = err instanceof SyntaxError ? ` (${err.message})` : '';
    throw new MaofError('CONFIG', `Config file ${file} is not valid JSON${where} — fix it or pass another file with --config.`);
  }
  return { ...parseConfig(json), source: file };
}
