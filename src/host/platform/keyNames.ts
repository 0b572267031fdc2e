// How MAOF names API keys in SecretStorage and what a typed key must look like. Pure (no vscode
// import) so it is unit-tested in plain Node.
import { agentRequiresKey, type AgentConfig } from '../../core/config/schema';
import type { KeyStatus } from '../../shared/protocolCommon';

/** Every storage name MAOF uses starts with this; nothing else of ours goes to SecretStorage. */
export const SECRET_PREFIX = 'maof.apiKey.';
export const MAX_KEY_LENGTH = 512;

/** The SecretStorage name for a core key name, or undefined for a name MAOF never stores. */
export function storageNameFor(coreName: string): string | undefined {
  const colon = coreName.indexOf(':');
  if (colon <= 0) return undefined;
  const kind = coreName.slice(0, colon);
  const rest = coreName.slice(colon + 1);
  if (!rest) return undefined;
  if (kind === 'provider') return rest === 'openai' || rest === 'anthropic' ? `${SECRET_PREFIX}${rest}` : undefined;
  if (kind === 'agent') return `${SECRET_PREFIX}agent.${rest}`;
  if (kind === 'secret') return `${SECRET_PREFIX}custom.${rest}`;
  return undefined;
}

/** Why a typed key cannot be right, or undefined when it looks usable (empty is handled apart). */
export function keyProblem(raw: string): string | undefined {
  const key = raw.trim();
  if (key === '') return undefined;
  if (/\s/.test(key)) return 'An API key has no spaces or line breaks inside — paste the key alone.';
  if (key.length > MAX_KEY_LENGTH) return `That is longer than any API key (${MAX_KEY_LENGTH} characters at most).`;
  return undefined;
}


/**
 * Whether an agent can be asked, as the chat's selector and the pickers say it: a key is set, a
 * key is missing, or the agent needs none (a local OpenAI-compatible server, `requiresKey: false`).
 */
export function keyStatus(agent: AgentConfig, hasKey: boolean): KeyStatus {
  if (hasKey) return 'set';
  return agentRequiresKey(agent) ? 'missing' : 'not-needed';
}
