// The CLI's SecretSource: keys come only from environment variables — the agent's `apiKeyEnv`,
// else OPENAI_API_KEY / ANTHROPIC_API_KEY.
import type { AgentConfig } from '../core/config/schema';
import type { SecretSource } from '../core/ports';

const PROVIDER_ENV: Record<AgentConfig['provider'], string> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

export class EnvSecretSource implements SecretSource {
  /** Answers by secret name: a CLI run reads its environment once (process.env reads are slow). */
  private readonly answers = new Map<string, string | undefined>();

  constructor(
    private readonly agents: readonly AgentConfig[],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get(name: string): Promise<string | undefined> {
    if (!this.answers.has(name)) this.answers.set(name, this.lookup(name));
    return Promise.resolve(this.answers.get(name));
  }

  /** Every key value this process could use, so the logger can scrub them. */
  knownValues(): string[] {
    const names = new Set<string>(Object.values(PROVIDER_ENV));
    for (const a of this.agents) if (a.apiKeyEnv) names.add(a.apiKeyEnv);
    return [...names].map((n) => this.env[n]?.trim()).filter((v): v is string => !!v && v.length >= 8);
  }

  private lookup(name: string): string | undefined {
    const [kind, id] = splitName(name);
    if (kind === 'provider' && (id === 'openai' || id === 'anthropic')) return clean(this.env[PROVIDER_ENV[id]]);
    if (kind === 'agent') {
      const agent = this.agents.find((a) => a.id === id);
      return agent?.apiKeyEnv ? clean(this.env[agent.apiKeyEnv]) : undefined;
    }
    if (kind === 'secret') {
      const agent = this.agents.find((a) => a.apiKeySecret === id);
      return agent?.apiKeyEnv ? clean(this.env[agent.apiKeyEnv]) : undefined;
    }
    return undefined;
  }
}

function splitName(name: string): [string, string] {
  const i = name.indexOf(':');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 1)];
}

function clean(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}
