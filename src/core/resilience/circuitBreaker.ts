// One circuit breaker per agent: stops sending to an agent that keeps failing, lets one probe
// through after a cool-down, and survives restarts through plain-JSON snapshots.
import { z } from 'zod';
import type { BreakerPolicy } from '../config/schema';
import { ERROR_CODES, type ErrorCode, MaofError } from '../errors';
import type { BreakerState } from '../events';
import type { Clock } from '../ports';
import { salvageRecord, type Salvage } from '../persistence/persistedSlot';

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  openedAt?: number;
  lastFailureCode?: ErrorCode;
  /** Last windowSize outcomes, oldest first, true = failure. */
  recent: boolean[];
  /** How many times this breaker has opened (re-opening after a failed probe included). */
  opens: number;
}

export type BreakerPermit = { allowed: true; probe: boolean } | { allowed: false; retryInMs: number };

export type BreakerChangeListener = (from: BreakerState, to: BreakerState, reason?: ErrorCode) => void;

/**
 * Called when the failure count changes (a failure, or a success or reset that clears failures).
 * Persisting it lets counts add up across short-lived processes (`maof ask` after `maof ask`).
 */
export type BreakerCountListener = () => void;

const snapshotSchema = z
  .object({
    state: z.enum(['closed', 'open', 'half-open']),
    consecutiveFailures: z.number().int().nonnegative().default(0),
    openedAt: z.number().finite().optional(),
    lastFailureCode: z.enum(ERROR_CODES).optional(),
    recent: z.array(z.boolean()).max(10_000).default([]),
    opens: z.number().int().nonnegative().default(0),
  })
  .refine((s) => s.state === 'closed' || s.openedAt !== undefined, { message: 'an open or half-open breaker needs openedAt' });

/** Stored breaker state (agent id → snapshot), each agent's entry kept when it is valid. */
export const salvageBreakerSnapshots: Salvage<Record<string, BreakerSnapshot>> = salvageRecord(snapshotSchema, 'breakers');

/** Derived once from MaofError so the breaker and the error set cannot disagree. */
const BREAKER_CODES: ReadonlySet<ErrorCode> = new Set(ERROR_CODES.filter((code) => new MaofError(code, '').countsAgainstBreaker));

export class CircuitBreaker {
  readonly agentId: string;
  private policy: BreakerPolicy;
  private readonly clock: Clock;
  private readonly onChange: BreakerChangeListener | undefined;

  private current: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private lastFailureCode: ErrorCode | undefined;
  private recent: boolean[] = [];
  private opens = 0;
  /** When the half-open probe in flight was let through; undefined when none is. */
  private probeStartedAt: number | undefined;
  /** Set by the registry; not a constructor argument so that breakers built alone stay simple. */
  onCountChange: BreakerCountListener | undefined;

  constructor(agentId: string, policy: BreakerPolicy, clock: Clock, onChange?: BreakerChangeListener, snapshot?: BreakerSnapshot) {
    this.agentId = agentId;
    this.policy = policy;
    this.clock = clock;
    this.onChange = onChange;
    if (snapshot) this.restore(snapshot);
  }

  /** Reading it after resetTimeoutMs of 'open' reports (and moves to) 'half-open'. */
  get state(): BreakerState {
    if (this.current === 'open' && this.openedAt !== undefined && this.clock.now() - this.openedAt >= this.policy.resetTimeoutMs) {
      this.probeStartedAt = undefined;
      this.transition('half-open');
    }
    return this.current;
  }

  /** Asks to send one request. In half-open only one probe is in flight at a time. */
  tryAcquire(): BreakerPermit {
    const state = this.state;
    const now = this.clock.now();
    if (state === 'closed') return { allowed: true, probe: false };
    if (state === 'open') {
      return { allowed: false, retryInMs: Math.max(0, (this.openedAt ?? now) + this.policy.resetTimeoutMs - now) };
    }
    // A probe whose caller never reported (crashed, forgot) is considered lost after a reset
    // timeout, so a silent caller cannot keep the agent unusable forever.
    if (this.probeStartedAt === undefined || now - this.probeStartedAt >= this.policy.resetTimeoutMs) {
      this.probeStartedAt = now;
      return { allowed: true, probe: true };
    }
    return { allowed: false, retryInMs: Math.max(0, this.probeStartedAt + this.policy.resetTimeoutMs - now) };
  }

  /** How long until tryAcquire may let a request through (0 when it would now); no side effect. */
  retryInMs(): number {
    const state = this.state;
    const now = this.clock.now();
    if (state === 'closed') return 0;
    if (state === 'open') return Math.max(0, (this.openedAt ?? now) + this.policy.resetTimeoutMs - now);
    return this.probeStartedAt === undefined ? 0 : Math.max(0, this.probeStartedAt + this.policy.resetTimeoutMs - now);
  }

  recordSuccess(): void {
    const state = this.state;
    if (state === 'half-open') {
      this.closeCleanly();
      this.transition('closed');
      return;
    }
    if (state === 'closed') {
      // Only a success that clears failures is worth saving; the common case changes no count.
      const cleared = this.consecutiveFailures > 0;
      this.consecutiveFailures = 0;
      this.pushOutcome(false);
      if (cleared) this.onCountChange?.();
    }
    // 'open': a late answer to a request sent before the breaker opened; the cool-down stands.
  }

  /** Codes that say nothing about the agent's health (see MaofError.countsAgainstBreaker) count as neutral. */
  recordFailure(code: ErrorCode): void {
    if (!BREAKER_CODES.has(code)) {
      this.recordNeutral();
      return;
    }
    const state = this.state;
    this.lastFailureCode = code;
    if (state === 'open') {
      this.consecutiveFailures++;
      this.onCountChange?.();
      return;
    }
    if (state === 'half-open') {
      this.consecutiveFailures++;
      this.open(code);
      this.onCountChange?.();
      return;
    }
    this.consecutiveFailures++;
    this.pushOutcome(true);
    if (this.consecutiveFailures >= this.policy.failureThreshold || this.rateExceeded()) this.open(code);
    this.onCountChange?.();
  }

  /** Releases a probe without judging the agent (e.g. BAD_REQUEST, CANCELLED). */
  recordNeutral(): void {
    if (this.state === 'half-open') this.probeStartedAt = undefined;
  }

  reset(): void {
    const from = this.current;
    const hadFailures = this.consecutiveFailures > 0 || this.recent.includes(true);
    this.closeCleanly();
    // `opens` is kept: how often the agent tripped is history the dashboard shows, not state.
    this.lastFailureCode = undefined;
    if (from !== 'closed') this.transition('closed');
    else if (hadFailures) this.onCountChange?.();
  }

  /** Time until an open breaker lets a probe through; 0 when half-open, undefined when closed. */
  halfOpenInMs(): number | undefined {
    const state = this.state;
    if (state === 'closed') return undefined;
    if (state === 'half-open') return 0;
    const now = this.clock.now();
    return Math.max(0, (this.openedAt ?? now) + this.policy.resetTimeoutMs - now);
  }

  /** Applies changed settings; takes effect from the next call. */
  setPolicy(policy: BreakerPolicy): void {
    this.policy = policy;
    this.trimRecent();
  }

  snapshot(): BreakerSnapshot {
    const state = this.state;
    const snap: BreakerSnapshot = { state, consecutiveFailures: this.consecutiveFailures, recent: [...this.recent], opens: this.opens };
    if (this.openedAt !== undefined && state !== 'closed') snap.openedAt = this.openedAt;
    if (this.lastFailureCode !== undefined) snap.lastFailureCode = this.lastFailureCode;
    return snap;
  }

  /**
   * Loads persisted state without emitting events. An 'open' breaker whose cool-down ended while
   * MAOF was not running comes back half-open; no probe is considered in flight.
   */
  restore(snapshot: BreakerSnapshot): void {
    const now = this.clock.now();
    this.current = snapshot.state;
    this.consecutiveFailures = snapshot.consecutiveFailures;
    // A saved time in the future (clock changed between runs) must not stretch the cool-down.
    this.openedAt = snapshot.openedAt === undefined ? undefined : Math.min(snapshot.openedAt, now);
    this.lastFailureCode = snapshot.lastFailureCode;
    this.recent = [...snapshot.recent];
    this.opens = snapshot.opens;
    this.probeStartedAt = undefined;
    if (this.current === 'closed') this.openedAt = undefined;
    else if (this.openedAt === undefined) this.openedAt = now;
    if (this.current === 'open' && this.openedAt !== undefined && now - this.openedAt >= this.policy.resetTimeoutMs) this.current = 'half-open';
    this.trimRecent();
  }

  private open(code: ErrorCode): void {
    this.openedAt = this.clock.now();
    this.probeStartedAt = undefined;
    this.opens++;
    this.transition('open', code);
  }

  private closeCleanly(): void {
    this.consecutiveFailures = 0;
    this.openedAt = undefined;
    this.probeStartedAt = undefined;
    // The failures that opened the breaker would otherwise re-open it on the first new failure.
    this.recent = [];
  }

  private rateExceeded(): boolean {
    const threshold = this.policy.failureRateThreshold;
    if (threshold === undefined || this.recent.length < this.policy.windowSize) return false;
    let failures = 0;
    for (const failed of this.recent) if (failed) failures++;
    return failures / this.recent.length >= threshold;
  }

  private pushOutcome(failed: boolean): void {
    this.recent.push(failed);
    this.trimRecent();
  }

  private trimRecent(): void {
    // shift(), not splice(0, n): it runs on every call, and V8 trims an array's front in place.
    while (this.recent.length > this.policy.windowSize) this.recent.shift();
  }

  private transition(to: BreakerState, reason?: ErrorCode): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.onChange?.(from, to, reason);
  }
}

export type RegistryChangeListener = (agentId: string, from: BreakerState, to: BreakerState, reason?: ErrorCode) => void;

/** All agents' breakers, created on first use, with one policy and one change listener. */
export class BreakerRegistry {
  private policy: BreakerPolicy;
  private readonly clock: Clock;
  private readonly onChange: RegistryChangeListener | undefined;
  private readonly onCountChange: ((agentId: string) => void) | undefined;
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(policy: BreakerPolicy, clock: Clock, onChange?: RegistryChangeListener, onCountChange?: (agentId: string) => void) {
    this.policy = policy;
    this.clock = clock;
    this.onChange = onChange;
    this.onCountChange = onCountChange;
  }

  get(agentId: string): CircuitBreaker {
    let breaker = this.breakers.get(agentId);
    if (!breaker) {
      breaker = this.create(agentId);
      this.breakers.set(agentId, breaker);
    }
    return breaker;
  }

  /** Live settings change: every breaker, existing and future, uses the new policy. */
  setPolicy(policy: BreakerPolicy): void {
    this.policy = policy;
    for (const b of this.breakers.values()) b.setPolicy(policy);
  }

  snapshots(): Record<string, BreakerSnapshot> {
    return Object.fromEntries([...this.breakers].map(([id, b]) => [id, b.snapshot()]));
  }

  /**
   * Loads persisted snapshots (from the StateStore, see `salvageBreakerSnapshots`). Entries that
   * do not validate are ignored; their ids are returned.
   */
  restore(snapshots: unknown): string[] {
    const valid = salvageBreakerSnapshots(snapshots, []);
    for (const [agentId, snap] of Object.entries(valid)) this.get(agentId).restore(snap);
    if (typeof snapshots !== 'object' || snapshots === null || Array.isArray(snapshots)) return [];
    return Object.keys(snapshots).filter((agentId) => !Object.hasOwn(valid, agentId));
  }

  /** Told of a user's reset (one agent, or all when undefined): marks kept beside the breakers end with it. */
  onReset: ((agentId?: string) => void) | undefined;

  reset(agentId: string): void {
    this.breakers.get(agentId)?.reset();
    this.onReset?.(agentId);
  }

  resetAll(): void {
    for (const b of this.breakers.values()) b.reset();
    this.onReset?.();
  }

  /** Whether a breaker exists for this agent (get() would create one). */
  has(agentId: string): boolean {
    return this.breakers.has(agentId);
  }

  private create(agentId: string): CircuitBreaker {
    const listener = this.onChange;
    const breaker = new CircuitBreaker(agentId, this.policy, this.clock, listener ? (from, to, reason) => listener(agentId, from, to, reason) : undefined);
    const counts = this.onCountChange;
    if (counts) breaker.onCountChange = () => counts(agentId);
    return breaker;
  }
}
