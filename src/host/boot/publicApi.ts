// What another extension receives from `vscode.extensions.getExtension('maof.maof').activate()` in
// production: a small, read-only status snapshot — never the extension context, SecretStorage, the
// orchestrator, settings writes or a way to spend the user's money. Requests from other extensions
// go through VS Code's Language Model API instead, where VS Code asks the user's consent.
// docs/API.md documents it and reviews what a hostile extension could do with it.

/** A circuit breaker as other extensions see it. */
export interface MaofBreakerStatus {
  readonly agentId: string;
  readonly state: 'closed' | 'open' | 'half-open';
}

/** Spend and breakers as of the call; a plain, frozen copy. */
export interface MaofStatus {
  /** UTC month, e.g. "2026-12". */
  readonly month: string;
  readonly monthUsd: number;
  readonly monthlyLimitUsd: number | null;
  readonly dayUsd: number;
  readonly dailyLimitUsd: number | null;
  readonly breakers: readonly MaofBreakerStatus[];
}

export interface MaofPublicApi {
  /** Bumped when the shape changes incompatibly. */
  readonly apiVersion: 1;
  /** The month's spend against the budget and each agent's breaker state. */
  status(): MaofStatus;
}

/** Where the status comes from (the host, loaded on first use). */
export interface StatusSource {
  summary(): { month: string; monthUsd: number; monthlyLimitUsd?: number; dayUsd: number; dailyLimitUsd?: number };
  breakers(): ReadonlyArray<{ agentId: string; state: string }>;
}

const STATES = new Set(['closed', 'open', 'half-open']);

/** Copies only numbers and strings out of the host: nothing returned can lead back into it. */
export function statusFrom(source: StatusSource): MaofStatus {
  const s = source.summary();
  const breakers = source.breakers().map((b) => Object.freeze({
    agentId: String(b.agentId),
    state: (STATES.has(b.state) ? b.state : 'closed') as MaofBreakerStatus['state'],
  }));
  return Object.freeze({
    month: String(s.month),
    monthUsd: Number(s.monthUsd),
    monthlyLimitUsd: s.monthlyLimitUsd === undefined ? null : Number(s.monthlyLimitUsd),
    dayUsd: Number(s.dayUsd),
    dailyLimitUsd: s.dailyLimitUsd === undefined ? null : Number(s.dailyLimitUsd),
    breakers: Object.freeze(breakers),
  });
}

/** The production exports: a frozen object with one function whose closure is the only way in. */
export function createPublicApi(source: () => StatusSource): MaofPublicApi {
  return Object.freeze({
    apiVersion: 1 as const,
    status: (): MaofStatus => statusFrom(source()),
  });
}
