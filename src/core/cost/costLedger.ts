// What MAOF has spent against the user's budget: requests reserve their worst-case cost before they
// are sent and settle to the real cost after, alerts fire at the configured fractions, and the
// ledger survives restarts through the StateStore. Money is summed in integer nano-dollars.
import { PersistedSlot } from '../persistence/persistedSlot';
import { z } from 'zod';
import type { BudgetPolicy } from '../config/schema';
import { cancelledError, MaofError } from '../errors';
import { silentLogger, type Clock, type Logger, type MonthStats, type SharedLedger, type StateStore, type UsageRow } from '../ports';
import { ZERO_USAGE, type Usage } from '../types';
import { formatUsd, nanoToUsd, usdToNano } from './costCalculator';
import { writeFailure } from '../persistence/sqliteStore';

export const LEDGER_STATE_KEY = 'maof.ledger.v1';

/** Entries kept for "last requests"; older ones live on only in the totals. */
export const LEDGER_MAX_ENTRIES = 500;
/** Per-day totals kept for the spend-by-day chart and usage export. */
export const LEDGER_KEEP_DAYS = 400;

const DAY_MS = 86_400_000;
/** Below this share of the limit left, a refusal reads "budget reached" rather than "this request is too big". */
const REACHED_SHARE = 0.05;
/**
 * Least time between two saves. The first settle after a quiet spell is saved at once; a busy
 * spell (a batch, a fan-out) is saved once per interval instead of once per request, because each
 * save serialises the last 500 entries. flush() (deactivate, CLI exit) cuts the wait short.
 */
export const LEDGER_SAVE_INTERVAL_MS = 1_000;
/**
 * A request waiting for budget in a shared ledger looks this often whether it is now first in the
 * queue of every process and fits (a cheap read; the transaction only when it may succeed).
 */
export const SHARED_WAIT_POLL_MS = 50;
/** Fired alerts of the shared ledger, so that one process's alert is not fired again by the next. */
export const ALERTS_STATE_KEY = 'maof.alerts.v1';

export interface LedgerEntry {
  requestId: string;
  at: number;
  agentId: string;
  model: string;
  task: string;
  usage: Usage;
  costUsd: number;
  cached: boolean;
  /** Who asked: "MAOF chat", "commands", "VS Code Chat", "CLI"… (absent in entries older than the field). */
  source?: string;
  /** Time to the first token and in all, when the caller knew them (kept in the usage history). */
  ttftMs?: number;
  totalMs?: number;
  /** ok | invalid-output | cancelled (a settle), cache-hit, imported; absent: ok / cache-hit by `cached`. */
  outcome?: string;
}

export interface Reservation {
  readonly id: string;
  readonly amountUsd: number;
}

/**
 * What reserveOrWait() and tryReserve() hand out: the reservation carries its own state, so settling or releasing it
 * needs no lookup, and a second settle or release is a no-op however long after.
 */
class LedgerReservation implements Reservation {
  state: 'open' | 'settled' | 'released' = 'open';
  constructor(
    readonly id: string,
    readonly amountUsd: number,
    readonly nano: number,
    readonly ledger: CostLedger,
    /** Its row in the shared ledger, when there is one. */
    readonly rowId?: number,
  ) {}
}

/** Ours and open: settling or releasing it gives its amount back to the headroom. */
function openHere(reservation: Reservation, ledger: CostLedger): reservation is LedgerReservation {
  return reservation instanceof LedgerReservation && reservation.ledger === ledger && reservation.state === 'open';
}

export type BudgetPeriod = 'month' | 'day';

export interface ReserveWaitOptions {
  agentId?: string;
  /** The agent's output cap, named in a refusal's fix. */
  maxOutputTokens?: number;
  signal?: AbortSignal;
  /** Clock time after which a request still waiting for budget gives up. */
  deadline: number;
  /** Called once when the request starts to wait for reservations in flight to settle. */
  onWait?: () => void;
}

/** A request waiting, first come first served, for reservations in flight to settle. */
interface BudgetWaiter {
  nano: number;
  amountUsd: number;
  opts: ReserveWaitOptions;
  resolve: (r: Reservation) => void;
  reject: (err: unknown) => void;
  /** Stops the deadline sleep and the abort listener. */
  done: AbortController;
  /** Its place in the shared queue (the waiters table), when the ledger is shared. */
  rowId?: number;
}

export interface BudgetAlert {
  period: BudgetPeriod;
  fraction: number;
  spentUsd: number;
  limitUsd: number;
}

/**
 * Spend as the status bar and dashboard show it. `byAgent`, `byTask`, `requests`, `cacheHits` and
 * `savedUsd` cover the current UTC month; `byDay` covers the last ~400 days, oldest first.
 * `requests` counts settled (billed) requests; cache hits are counted apart.
 */
export interface SpendSummary {
  monthUsd: number;
  dayUsd: number;
  reservedUsd: number;
  monthlyLimitUsd?: number;
  dailyLimitUsd?: number;
  perRequestLimitUsd?: number;
  byAgent: Record<string, number>;
  byTask: Record<string, number>;
  /** Spend this month by who asked (see LedgerEntry.source; "other" when a caller said nothing). */
  bySource: Record<string, number>;
  byDay: Record<string, number>;
  requests: number;
  cacheHits: number;
  savedUsd: number;
  /** Current UTC month ("2025-06") and day ("2025-06-15"). */
  month: string;
  day: string;
  /** Highest alert fraction fired in the current month / day for the current limit (1 = limit reached). */
  monthAlert?: number;
  dayAlert?: number;
}

export interface CostLedgerOptions {
  store: StateStore;
  clock: Clock;
  policy: BudgetPolicy;
  onAlert?: (alert: BudgetAlert) => void;
  logger?: Logger;
}

export interface CacheHitRecord {
  requestId: string;
  agentId: string;
  task: string;
  savedUsd: number;
  model?: string;
  usage?: Usage;
  source?: string;
}

/** Money left before the tightest of the monthly and daily limits, or undefined when neither is set. */
export function budgetHeadroom(summary: SpendSummary): number | undefined {
  const committed = (spent: number): number => spent + summary.reservedUsd;
  const left: number[] = [];
  if (summary.monthlyLimitUsd !== undefined) left.push(summary.monthlyLimitUsd - committed(summary.monthUsd));
  if (summary.dailyLimitUsd !== undefined) left.push(summary.dailyLimitUsd - committed(summary.dayUsd));
  if (left.length === 0) return undefined;
  return Math.max(0, nanoToUsd(usdToNano(Math.min(...left))));
}

// ---- persisted shape ----------------------------------------------------------------------------

interface FiredAlerts {
  /** Month ("2025-06") or day ("2025-06-15") the alerts belong to. */
  period: string;
  /** The limit they fired against: a changed limit starts the alerts afresh. */
  limitNano: number;
  fractions: number[];
}

interface PersistedLedger {
  v: 1;
  month: string;
  byDay: Record<string, number>;
  byAgent: Record<string, number>;
  byTask: Record<string, number>;
  /** Absent in files written before the field. */
  bySource?: Record<string, number>;
  requests: number;
  cacheHits: number;
  savedNano: number;
  alerts: { month?: FiredAlerts; day?: FiredAlerts };
  entries: LedgerEntry[];
}

const MONTH_RE = /^\d{4}-\d{2}$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const ANY_KEY_RE = /^.+$/s;

const nanoSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const tokenCount = z.number().nonnegative().finite();
const usageSchema = z.object({ inputTokens: tokenCount, outputTokens: tokenCount, cacheReadTokens: tokenCount, cacheWriteTokens: tokenCount });
const entrySchema = z.object({
  requestId: z.string(),
  at: z.number().finite(),
  agentId: z.string(),
  model: z.string(),
  task: z.string(),
  usage: usageSchema,
  costUsd: z.number().nonnegative().finite(),
  cached: z.boolean(),
  source: z.string().max(200).optional(),
});
const firedSchema = z.object({ period: z.string(), limitNano: nanoSchema, fractions: z.array(z.number().gt(0).max(1)).max(32) });

export interface LoadedLedger {
  month?: string;
  byDay: Map<string, number>;
  byAgent: Map<string, number>;
  byTask: Map<string, number>;
  bySource: Map<string, number>;
  requests: number;
  cacheHits: number;
  savedNano: number;
  alerts: { month?: FiredAlerts; day?: FiredAlerts };
  entries: LedgerEntry[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function salvageTotals(value: unknown, keyRe: RegExp, name: string, problems: string[]): Map<string, number> {
  const out = new Map<string, number>();
  if (!isRecord(value)) {
    problems.push(`${name} is not an object`);
    return out;
  }
  let dropped = 0;
  for (const [k, v] of Object.entries(value)) {
    if (keyRe.test(k) && nanoSchema.safeParse(v).success) out.set(k, v as number);
    else dropped++;
  }
  if (dropped > 0) problems.push(`${name}: dropped ${dropped} invalid item(s)`);
  return out;
}

function salvageCount(value: unknown, name: string, problems: string[]): number {
  const parsed = nanoSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  problems.push(`${name} is invalid`);
  return 0;
}

/** Keeps every part of a stored ledger that is still valid; describes what it dropped in `problems`. */
export function salvageLedger(raw: unknown, problems: string[]): LoadedLedger {
  const empty: LoadedLedger = { byDay: new Map(), byAgent: new Map(), byTask: new Map(), bySource: new Map(), requests: 0, cacheHits: 0, savedNano: 0, alerts: {}, entries: [] };
  if (!isRecord(raw)) {
    problems.push('stored ledger is not an object');
    return empty;
  }
  if (raw.v !== 1) problems.push('version is not 1');
  const out = empty;
  out.byDay = salvageTotals(raw.byDay, DAY_RE, 'byDay', problems);
  if (typeof raw.month === 'string' && MONTH_RE.test(raw.month)) {
    // Month-scoped statistics mean nothing without the month they belong to.
    out.month = raw.month;
    out.byAgent = salvageTotals(raw.byAgent, ANY_KEY_RE, 'byAgent', problems);
    out.byTask = salvageTotals(raw.byTask, ANY_KEY_RE, 'byTask', problems);
    if (raw.bySource !== undefined) out.bySource = salvageTotals(raw.bySource, ANY_KEY_RE, 'bySource', problems);
    out.requests = salvageCount(raw.requests, 'requests', problems);
    out.cacheHits = salvageCount(raw.cacheHits, 'cacheHits', problems);
    out.savedNano = salvageCount(raw.savedNano, 'savedNano', problems);
  } else {
    problems.push('month is missing or invalid; per-agent and per-task totals dropped');
  }
  if (isRecord(raw.alerts)) {
    for (const period of ['month', 'day'] as const) {
      const value = raw.alerts[period];
      if (value === undefined) continue;
      const parsed = firedSchema.safeParse(value);
      if (parsed.success) out.alerts[period] = parsed.data;
      else problems.push(`alerts.${period} is invalid`);
    }
  } else if (raw.alerts !== undefined) {
    problems.push('alerts is not an object');
  }
  if (Array.isArray(raw.entries)) {
    let dropped = 0;
    for (const item of raw.entries as unknown[]) {
      const parsed = entrySchema.safeParse(item);
      if (parsed.success) out.entries.push(parsed.data);
      else dropped++;
    }
    if (dropped > 0) problems.push(`entries: dropped ${dropped} invalid item(s)`);
    out.entries = out.entries.slice(-LEDGER_MAX_ENTRIES);
  } else {
    problems.push('entries is not a list');
  }
  return out;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function add(map: Map<string, number>, key: string, nano: number): void {
  map.set(key, (map.get(key) ?? 0) + nano);
}

function toUsdRecord(map: Map<string, number>, sortKeys = false): Record<string, number> {
  const keys = [...map.keys()];
  if (sortKeys) keys.sort();
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = nanoToUsd(map.get(k) ?? 0);
  return out;
}

function budgetExceeded(message: string, detail: string, agentId: string | undefined): MaofError {
  return new MaofError('BUDGET_EXCEEDED', message, { detail, agentId });
}

// ---- the ledger ---------------------------------------------------------------------------------

export class CostLedger {
  private readonly store: StateStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onAlert?: (alert: BudgetAlert) => void;
  private policy: BudgetPolicy;

  private today = '';
  /** Days since the epoch of `today`, so that roll() costs one division while the day lasts. */
  private dayIndex = Number.NaN;
  private month = '';
  private monthNano = 0;
  private byDay = new Map<string, number>();
  private byAgent = new Map<string, number>();
  private byTask = new Map<string, number>();
  private bySource = new Map<string, number>();
  private requests = 0;
  private cacheHits = 0;
  private savedNano = 0;
  private fired: { month?: FiredAlerts; day?: FiredAlerts } = {};
  private entries: LedgerEntry[] = [];

  private seq = 0;
  private reservedNano = 0;
  private readonly waiters: BudgetWaiter[] = [];
  /** The ledger of every MAOF process of the user (SqliteStore), or undefined: this process alone. */
  private sharedBook: SharedLedger | undefined;
  /** Opened while the store had a problem: the shared ledger is taken up once the user reset it. */
  private waitingForStore = false;
  private sharedPoll: ReturnType<typeof setInterval> | undefined;
  /** Settles whose write failed (disk full): written with the next one, never dropped. */
  private readonly unwritten: UsageRow[] = [];
  /** Reservation rows to delete with the next write that succeeds. */
  private readonly pendingDrops: number[] = [];
  private summaryCache: { version: number; day: string; summary: SpendSummary } | undefined;

  /** At most one write in flight and one pending; the pending one always takes the latest state. */
  private readonly slot: PersistedSlot<LoadedLedger>;

  constructor(opts: CostLedgerOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.policy = opts.policy;
    this.onAlert = opts.onAlert;
    this.logger = opts.logger ?? silentLogger;
    this.slot = new PersistedSlot({
      store: this.store,
      key: LEDGER_STATE_KEY,
      label: 'Cost ledger',
      salvage: salvageLedger,
      snapshot: () => this.snapshot(),
      clock: this.clock,
      intervalMs: LEDGER_SAVE_INTERVAL_MS,
      logger: this.logger,
    });
    this.sharedBook = this.store.problem ? undefined : this.store.sharedLedger;
    this.waitingForStore = this.store.problem !== undefined;
    if (this.sharedBook) this.loadAlerts();
    else this.load();
    this.roll();
  }

  setPolicy(policy: BudgetPolicy): void {
    this.policy = policy;
    this.summaryCache = undefined;
    this.roll();
    this.serveWaiters();
    // A lowered limit may already be crossed: say so now rather than at the next request.
    if (this.checkAlerts()) this.schedulePersist();
  }

  /**
   * Reserves the worst-case cost before a request is sent. A request that does not fit only
   * because of other requests' reservations in flight waits for them to settle, first come first served, until
   * `deadline` (then BUDGET_EXCEEDED) or its signal aborts (CANCELLED). Refused at once only when
   * settled spend plus its own worst case exceeds a limit, with what is left and what it may cost.
   * Returns synchronously when the reservation fits now, so the common case costs no promise.
   */
  reserveOrWait(amountUsd: number, opts: ReserveWaitOptions): Reservation | Promise<Reservation> {
    if (!Number.isFinite(amountUsd) || amountUsd < 0) {
      throw new MaofError('BAD_REQUEST', 'MAOF could not estimate what this request may cost — see the MAOF log for details.', {
        detail: `invalid worst-case cost: ${amountUsd}`,
        agentId: opts.agentId,
      });
    }
    this.roll();
    const amount = usdToNano(amountUsd);
    // A request whose worst case is $0 (a local model) is never refused.
    if (amount === 0) return new LedgerReservation(`rsv-${++this.seq}`, amountUsd, 0, this);
    if (this.shared) return this.sharedReserveOrWait(amount, amountUsd, opts);
    const refusal = this.refusal(amount, opts);
    if (refusal) throw refusal;
    if (this.waiters.length === 0 && this.fits(amount)) {
      this.reservedNano += amount;
      return new LedgerReservation(`rsv-${++this.seq}`, amountUsd, amount, this);
    }
    if (opts.signal?.aborted) throw cancelledError();
    return this.wait(amount, amountUsd, opts);
  }

  /**
   * The hot path: reserves `amountUsd` when it fits now beside settled spend and reservations in
   * flight (and no one waits before it); otherwise reserves nothing and returns undefined, and
   * the caller goes to reserveOrWait (after counting the worst case exactly).
   */
  tryReserve(amountUsd: number): Reservation | undefined {
    if (!Number.isFinite(amountUsd) || amountUsd < 0) return undefined;
    this.roll();
    const amount = usdToNano(amountUsd);
    if (amount > 0 && this.policy.perRequestUsd !== undefined && amount > usdToNano(this.policy.perRequestUsd)) return undefined;
    if (this.shared && amount > 0) {
      if (this.waiters.length > 0) return undefined;
      try {
        return this.sharedReserve(amount, amountUsd);
      } catch {
        return undefined; // reserveOrWait tries again and says what failed
      }
    }
    // Fitting spend + reservations + it implies fitting spend + it: only the per-request limit is left to check.
    if (this.waiters.length > 0 || !this.fits(amount)) return undefined;
    // Unknown spend history under a limit: reserveOrWait refuses with the reason.
    if (amount > 0 && this.store.problem) return undefined;
    this.reservedNano += amount;
    return new LedgerReservation(`rsv-${++this.seq}`, amountUsd, amount, this);
  }

  /** Requests waiting for budget. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Replaces a reservation with the real cost and records the entry. A second settle of the same
   * reservation does nothing; a settle after a release still records the cost (it was spent).
   */
  settle(reservation: Reservation, entry: Omit<LedgerEntry, 'at'>): void {
    if (reservation instanceof LedgerReservation && reservation.state === 'settled') return;
    this.roll();
    this.closeReservation(reservation, 'settled');
    let costUsd = entry.costUsd;
    if (!Number.isFinite(costUsd) || costUsd < 0) {
      this.logger.warn(`Cost ledger: ignoring invalid cost ${costUsd} for request ${entry.requestId}`);
      costUsd = 0;
    }
    const nano = usdToNano(costUsd);
    if (this.shared) {
      this.sharedSettle(reservation, { ...entry, costUsd }, nano);
      return;
    }
    add(this.byDay, this.today, nano);
    this.monthNano += nano;
    add(this.byAgent, entry.agentId, nano);
    add(this.byTask, entry.task, nano);
    add(this.bySource, entry.source ?? 'other', nano);
    this.requests++;
    // Only now, with the real cost counted: a waiter served before it would see too little spent.
    this.serveWaiters();
    this.pushEntry({
      requestId: entry.requestId,
      at: this.clock.now(),
      agentId: entry.agentId,
      model: entry.model,
      task: entry.task,
      usage: { ...entry.usage },
      costUsd,
      cached: entry.cached,
      ...(entry.source !== undefined ? { source: entry.source } : {}),
    });
    this.checkAlerts();
    this.schedulePersist();
  }

  /** Gives a reservation back (the request failed before any usage, or was cancelled). Idempotent. */
  release(reservation: Reservation): void {
    if (openHere(reservation, this)) {
      this.closeReservation(reservation, 'released');
      this.dropSharedReservation(reservation);
      this.serveWaiters();
    }
  }

  recordCacheHit(hit: CacheHitRecord): void {
    this.roll();
    const saved = Number.isFinite(hit.savedUsd) && hit.savedUsd > 0 ? hit.savedUsd : 0;
    if (this.shared) {
      this.sharedCacheHit(hit, saved);
      return;
    }
    this.cacheHits++;
    this.savedNano += usdToNano(saved);
    this.pushEntry({
      requestId: hit.requestId,
      at: this.clock.now(),
      agentId: hit.agentId,
      model: hit.model ?? '',
      task: hit.task,
      usage: { ...(hit.usage ?? ZERO_USAGE) },
      costUsd: 0,
      cached: true,
      ...(hit.source !== undefined ? { source: hit.source } : {}),
    });
    this.schedulePersist();
  }

  summary(): SpendSummary {
    this.roll();
    if (this.shared) return this.sharedSummary(this.shared);
    return this.buildSummary({ byAgent: this.byAgent, byTask: this.byTask, bySource: this.bySource, requests: this.requests, cacheHits: this.cacheHits, savedNano: this.savedNano }, this.byDay);
  }

  /** This month's totals (held in memory, or read from the shared history) and the days, as the views show them. */
  private buildSummary(stats: MonthStats, byDay: Map<string, number>): SpendSummary {
    const p = this.policy;
    return {
      monthUsd: nanoToUsd(this.monthNano),
      dayUsd: nanoToUsd(this.byDay.get(this.today) ?? 0),
      reservedUsd: nanoToUsd(this.reservedNano),
      monthlyLimitUsd: p.monthlyUsd,
      dailyLimitUsd: p.dailyUsd,
      perRequestLimitUsd: p.perRequestUsd,
      byAgent: toUsdRecord(stats.byAgent),
      byTask: toUsdRecord(stats.byTask),
      bySource: toUsdRecord(stats.bySource),
      byDay: toUsdRecord(byDay, true),
      requests: stats.requests,
      cacheHits: stats.cacheHits,
      savedUsd: nanoToUsd(stats.savedNano),
      month: this.month,
      day: this.today,
      monthAlert: this.highestFired('month', this.month, p.monthlyUsd),
      dayAlert: this.highestFired('day', this.today, p.dailyUsd),
    };
  }

  /** The last `limit` entries, newest first. */
  recent(limit: number): LedgerEntry[] {
    if (!(limit > 0)) return [];
    if (this.shared) return this.sharedRecent(this.shared, limit);
    return this.entries
      .slice(-Math.floor(limit))
      .reverse()
      .map((e) => ({ ...e, usage: { ...e.usage } }));
  }

  /** Resolves once the latest state has been handed to the store. */
  flush(): Promise<void> {
    if (this.shared) {
      this.writeUnwritten();
      return Promise.resolve();
    }
    return this.slot.flush();
  }

  // ---- internals --------------------------------------------------------------------------------

  private wait(nano: number, amountUsd: number, opts: ReserveWaitOptions, rowId?: number): Promise<Reservation> {
    return new Promise<Reservation>((resolve, reject) => {
      const waiter: BudgetWaiter = { nano, amountUsd, opts, resolve, reject, done: new AbortController(), ...(rowId !== undefined ? { rowId } : {}) };
      this.waiters.push(waiter);
      const onAbort = (): void => this.dropWaiter(waiter, cancelledError());
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      waiter.done.signal.addEventListener('abort', () => opts.signal?.removeEventListener('abort', onAbort), { once: true });
      const ms = opts.deadline - this.clock.now();
      this.clock.sleep(Math.max(1, ms), waiter.done.signal).then(
        () => this.dropWaiter(waiter, this.waitedTooLong(waiter)),
        () => undefined,
      );
      try {
        opts.onWait?.();
      } catch (err) {
        this.logger.warn('Cost ledger: budget wait listener failed', err);
      }
    });
  }

  private dropWaiter(waiter: BudgetWaiter, err: unknown): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    waiter.done.abort();
    this.leaveSharedQueue(waiter);
    waiter.reject(err);
    // The head left: the next one may fit already.
    if (index === 0) this.serveWaiters();
  }

  /** Hands reservations to waiters in order while they fit; refuses those that can no longer fit at all. */
  private serveWaiters(): void {
    if (this.waiters.length === 0) return;
    this.roll();
    if (this.shared) {
      this.serveSharedWaiters();
      return;
    }
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      const refusal = this.refusal(head.nano, head.opts);
      if (refusal) {
        this.waiters.shift();
        head.done.abort();
        head.reject(refusal);
        continue;
      }
      if (!this.fits(head.nano)) return;
      this.waiters.shift();
      head.done.abort();
      this.reservedNano += head.nano;
      head.resolve(new LedgerReservation(`rsv-${++this.seq}`, head.amountUsd, head.nano, this));
    }
  }

  private waitedTooLong(waiter: BudgetWaiter): MaofError {
    const held = formatUsd(nanoToUsd(this.reservedNano));
    return budgetExceeded(
      `This request could cost up to ${formatUsd(waiter.amountUsd)} and waited for ${held} held by requests still in flight, which did not finish in time — try again, or raise the budget limit.`,
      `budget wait deadline passed: worst case ${waiter.nano} nUSD, reserved ${this.reservedNano} nUSD`,
      waiter.opts.agentId,
    );
  }

  /** Spend, reservations in flight and `amount` together stay within every limit. */
  private fits(amount: number): boolean {
    const p = this.policy;
    if (p.monthlyUsd !== undefined && this.monthNano + this.reservedNano + amount > usdToNano(p.monthlyUsd)) return false;
    if (p.dailyUsd !== undefined && (this.byDay.get(this.today) ?? 0) + this.reservedNano + amount > usdToNano(p.dailyUsd)) return false;
    return true;
  }

  /**
   * Why a worst case of `amount` can never fit, whatever settles: above the per-request limit, or
   * settled spend plus it above the monthly or daily limit. The message says what is left, what
   * the request may cost and the fixes.
   */
  private refusal(amount: number, opts: { agentId?: string; maxOutputTokens?: number }): MaofError | undefined {
    const p = this.policy;
    const cost = (): string => formatUsd(nanoToUsd(amount));
    const lowerCap = opts.agentId
      ? ` or lower agent "${opts.agentId}"'s maxOutputTokens${opts.maxOutputTokens !== undefined ? ` (${opts.maxOutputTokens.toLocaleString('en-US')} now)` : ''}`
      : ' or lower the agent\'s maxOutputTokens';
    const unknown = this.unknownSpend(opts.agentId);
    if (unknown) return unknown;
    if (p.perRequestUsd !== undefined && amount > usdToNano(p.perRequestUsd)) {
      return budgetExceeded(
        `This request needs up to ${cost()}, above the per-request limit of ${formatUsd(p.perRequestUsd)} — select less context, raise maof.budget.perRequestUsd${lowerCap}.`,
        `per-request limit: worst case ${amount} nUSD > limit ${usdToNano(p.perRequestUsd)} nUSD`,
        opts.agentId,
      );
    }
    const periods = [
      { period: 'month' as const, limitUsd: p.monthlyUsd, spent: this.monthNano },
      { period: 'day' as const, limitUsd: p.dailyUsd, spent: this.byDay.get(this.today) ?? 0 },
    ];
    for (const { period, limitUsd, spent } of periods) {
      if (limitUsd === undefined) continue;
      const limit = usdToNano(limitUsd);
      if (spent + amount <= limit) continue;
      const left = Math.max(0, limit - spent);
      const detail = `${period} limit: spent ${spent} + worst case ${amount} nUSD > limit ${limit} nUSD`;
      const setting = period === 'month' ? 'maof.budget.monthlyUsd' : 'maof.budget.dailyUsd';
      if (left <= limit * REACHED_SHARE) {
        const message =
          period === 'month'
            ? `Monthly budget of ${formatUsd(limitUsd)} reached (${formatUsd(nanoToUsd(spent))} spent; this request needs up to ${cost()}) — raise maof.budget.monthlyUsd or wait until next month.`
            : `Daily budget of ${formatUsd(limitUsd)} reached (${formatUsd(nanoToUsd(spent))} spent; this request needs up to ${cost()}) — raise maof.budget.dailyUsd or wait until tomorrow (UTC).`;
        return budgetExceeded(message, detail, opts.agentId);
      }
      const when = period === 'month' ? 'this month' : 'today';
      return budgetExceeded(`This request needs up to ${cost()}, ${formatUsd(nanoToUsd(left))} left ${when} — raise ${setting}${lowerCap}.`, detail, opts.agentId);
    }
    return undefined;
  }

  /**
   * Spend history that exists but could not be read: the month's spend is unknown, so a limit
   * cannot be honoured — what costs money is refused rather than counted again from $0.
   */
  private unknownSpend(agentId: string | undefined): MaofError | undefined {
    const problem = this.store.problem;
    if (!problem || (this.policy.monthlyUsd === undefined && this.policy.dailyUsd === undefined)) return undefined;
    return budgetExceeded(problem.message, `state file ${problem.kind}${problem.code ? ` (${problem.code})` : ''}: spend history unknown`, agentId);
  }

  private closeReservation(reservation: Reservation, how: 'settled' | 'released'): void {
    if (!(reservation instanceof LedgerReservation) || reservation.ledger !== this) return;
    if (reservation.state === 'open') this.reservedNano -= reservation.nano;
    reservation.state = how;
  }

  private pushEntry(entry: LedgerEntry): void {
    this.entries.push(entry);
    // shift(), not splice(0, n): V8 trims the front of the array in place (~0.4 µs vs ~16 µs for 500).
    while (this.entries.length > LEDGER_MAX_ENTRIES) this.entries.shift();
  }

  /** Moves to the UTC day/month of clock.now(): a new month starts its statistics at zero. */
  private roll(): void {
    const now = this.clock.now();
    const dayIndex = Math.floor(now / DAY_MS);
    if (dayIndex === this.dayIndex) return;
    this.dayIndex = dayIndex;
    const day = utcDay(now);
    if (day === this.today) return;
    this.today = day;
    const month = day.slice(0, 7);
    if (month !== this.month) {
      this.month = month;
      this.byAgent = new Map();
      this.byTask = new Map();
      this.bySource = new Map();
      this.requests = 0;
      this.cacheHits = 0;
      this.savedNano = 0;
    }
    const cutoff = utcDay(this.clock.now() - LEDGER_KEEP_DAYS * DAY_MS);
    let monthNano = 0;
    for (const [d, nano] of this.byDay) {
      if (d < cutoff) this.byDay.delete(d);
      else if (d.startsWith(month)) monthNano += nano;
    }
    this.monthNano = monthNano;
  }

  /** Fires each configured alert once per period and limit; returns whether anything fired. */
  private checkAlerts(): boolean {
    const month = this.checkPeriod('month', this.month, this.monthNano, this.policy.monthlyUsd);
    const day = this.checkPeriod('day', this.today, this.byDay.get(this.today) ?? 0, this.policy.dailyUsd);
    return month || day;
  }

  private checkPeriod(period: BudgetPeriod, key: string, spent: number, limitUsd: number | undefined): boolean {
    if (limitUsd === undefined || limitUsd <= 0) return false;
    const limit = usdToNano(limitUsd);
    // Runs on every settle: below the lowest threshold there is nothing to find.
    let lowest = 1;
    for (const f of this.policy.alertAt) if (f < lowest) lowest = f;
    if (spent < lowest * limit) return false;
    const prior = this.fired[period];
    const fired = prior && prior.period === key && prior.limitNano === limit ? prior.fractions : [];
    const thresholds = [...new Set([...this.policy.alertAt, 1])];
    const crossed = thresholds.filter((f) => spent >= f * limit && !fired.includes(f));
    if (crossed.length === 0) return false;
    this.fired[period] = { period: key, limitNano: limit, fractions: [...fired, ...crossed].sort((a, b) => a - b) };
    // Crossing several thresholds at once is one event for the user: report the highest.
    const alert: BudgetAlert = { period, fraction: Math.max(...crossed), spentUsd: nanoToUsd(spent), limitUsd };
    this.logger.info(`Budget alert: ${period} spend ${formatUsd(alert.spentUsd)} reached ${Math.round(alert.fraction * 100)} % of ${formatUsd(limitUsd)}`);
    try {
      this.onAlert?.(alert);
    } catch (err) {
      this.logger.warn('Cost ledger: budget alert listener failed', err);
    }
    return true;
  }

  private highestFired(period: BudgetPeriod, key: string, limitUsd: number | undefined): number | undefined {
    const fired = this.fired[period];
    if (limitUsd === undefined || !fired || fired.period !== key || fired.limitNano !== usdToNano(limitUsd) || fired.fractions.length === 0) return undefined;
    return Math.max(...fired.fractions);
  }

  private load(): void {
    const loaded = this.slot.load();
    if (!loaded) return;
    this.byDay = loaded.byDay;
    this.month = loaded.month ?? '';
    this.byAgent = loaded.byAgent;
    this.byTask = loaded.byTask;
    this.bySource = loaded.bySource;
    this.requests = loaded.requests;
    this.cacheHits = loaded.cacheHits;
    this.savedNano = loaded.savedNano;
    this.fired = loaded.alerts;
    this.entries = loaded.entries;
  }

  private snapshot(): PersistedLedger {
    return {
      v: 1,
      month: this.month,
      byDay: Object.fromEntries(this.byDay),
      byAgent: Object.fromEntries(this.byAgent),
      byTask: Object.fromEntries(this.byTask),
      bySource: Object.fromEntries(this.bySource),
      requests: this.requests,
      cacheHits: this.cacheHits,
      savedNano: this.savedNano,
      alerts: { ...this.fired },
      entries: this.entries.slice(),
    };
  }

  private schedulePersist(): void {
    if (this.shared) {
      this.store.update(ALERTS_STATE_KEY, this.fired).catch((err: unknown) => this.logger.warn('Cost ledger: could not save the fired budget alerts', err));
      return;
    }
    this.slot.save();
  }

  // ---- the shared ledger: every MAOF process of the user (SqliteStore) ---------------------------

  /** The shared ledger, once the store has one without a problem (after MAOF: Reset Spend History, from then on). */
  private get shared(): SharedLedger | undefined {
    if (this.sharedBook || !this.waitingForStore) return this.sharedBook;
    const book = this.store.problem ? undefined : this.store.sharedLedger;
    if (!book) return undefined;
    this.sharedBook = book;
    this.waitingForStore = false;
    // What this session spent while the ledger could not be read is carried into it, not lost.
    for (const e of this.entries) {
      this.unwritten.push({
        requestId: e.requestId, at: e.at, source: e.source ?? 'other', task: e.task, agentId: e.agentId, model: e.model,
        inputTokens: e.usage.inputTokens, outputTokens: e.usage.outputTokens, cacheReadTokens: e.usage.cacheReadTokens, cacheWriteTokens: e.usage.cacheWriteTokens,
        costNano: usdToNano(e.costUsd), savedNano: 0, cached: e.cached, outcome: e.cached && e.costUsd === 0 ? 'cache-hit' : 'ok',
      });
    }
    this.entries = [];
    this.writeUnwritten();
    return book;
  }

  /** Takes every process's totals into the fields fits() and refusal() read; returns the first waiter of all. */
  private syncShared(shared: SharedLedger): number | undefined {
    const t = shared.totals(this.today);
    this.monthNano = t.monthNano;
    this.byDay.set(this.today, t.dayNano);
    this.reservedNano = t.reservedNano;
    return t.headWaiter;
  }

  /** One BEGIN IMMEDIATE: the totals of every process, and the reservation when it fits and no one waits first. Throws when the write fails. */
  private sharedReserve(amount: number, amountUsd: number): Reservation | undefined {
    const shared = this.shared;
    if (!shared) return undefined;
    return shared.transact(() => {
      // No monthly or daily limit here: nothing to check against, only the reservation to show others.
      if (this.limited()) {
        const head = this.syncShared(shared);
        if (head !== undefined || !this.fits(amount)) return undefined;
      }
      const rowId = shared.addReservation(amount);
      this.reservedNano += amount;
      return new LedgerReservation(`rsv-${++this.seq}`, amountUsd, amount, this, rowId);
    });
  }

  /** A monthly or daily limit is set: only then do other processes' spend and reservations matter here. */
  private limited(): boolean {
    return this.policy.monthlyUsd !== undefined || this.policy.dailyUsd !== undefined;
  }

  /** The ledger could not write: nothing is sent rather than a bill left unrecorded. */
  private unrecordable(err: unknown, agentId: string | undefined): MaofError {
    const why = writeFailure(err);
    this.logger.error(`Cost ledger: could not record a reservation (${why}).`, err);
    return budgetExceeded(
      `MAOF could not record this request in its spend ledger (${why}), so it was not sent — free disk space or fix the MAOF state directory's permissions, then try again.`,
      `ledger write failed: ${why}`,
      agentId,
    );
  }

  private sharedReserveOrWait(amount: number, amountUsd: number, opts: ReserveWaitOptions): Reservation | Promise<Reservation> {
    const shared = this.shared;
    if (!shared) throw new Error('no shared ledger');
    let reserved: Reservation | undefined;
    try {
      this.syncShared(shared);
      const refusal = this.refusal(amount, opts);
      if (refusal) throw refusal;
      if (this.waiters.length === 0) reserved = this.sharedReserve(amount, amountUsd);
    } catch (err) {
      throw err instanceof MaofError ? err : this.unrecordable(err, opts.agentId);
    }
    if (reserved) return reserved;
    if (opts.signal?.aborted) throw cancelledError();
    let rowId: number;
    try {
      rowId = shared.addWaiter(amount);
    } catch (err) {
      throw this.unrecordable(err, opts.agentId);
    }
    const waiting = this.wait(amount, amountUsd, opts, rowId);
    this.sharedPoll ??= setInterval(() => {
      if (this.waiters.length > 0) this.serveWaiters();
      else {
        clearInterval(this.sharedPoll);
        this.sharedPoll = undefined;
      }
    }, SHARED_WAIT_POLL_MS);
    return waiting;
  }

  /**
   * Serves this process's waiters in order while the first of them is first in every process's
   * queue (the lowest waiters row id: first come, first served across processes) and fits.
   */
  private serveSharedWaiters(): void {
    const shared = this.shared;
    while (shared && this.waiters.length > 0) {
      const head = this.waiters[0];
      const rowId = head.rowId ?? 0;
      let outcome: MaofError | number | undefined;
      try {
        // A plain read first: the write transaction only when this waiter may be served.
        const first = this.syncShared(shared);
        if ((first !== undefined && first < rowId) || (!this.fits(head.nano) && !this.refusal(head.nano, head.opts))) return;
        outcome = shared.transact(() => {
          const firstNow = this.syncShared(shared);
          if (firstNow !== undefined && firstNow < rowId) return undefined;
          const refusal = this.refusal(head.nano, head.opts);
          if (refusal) {
            shared.dropWaiter(rowId);
            return refusal;
          }
          if (!this.fits(head.nano)) return undefined;
          shared.dropWaiter(rowId);
          return shared.addReservation(head.nano);
        });
      } catch (err) {
        this.logger.debug('Cost ledger: could not serve a budget waiter now; trying again shortly', err);
        return;
      }
      if (outcome === undefined) return;
      this.waiters.shift();
      head.done.abort();
      if (outcome instanceof MaofError) {
        head.reject(outcome);
        continue;
      }
      this.reservedNano += head.nano;
      head.resolve(new LedgerReservation(`rsv-${++this.seq}`, head.amountUsd, head.nano, this, outcome));
    }
  }

  private leaveSharedQueue(waiter: BudgetWaiter): void {
    if (!this.shared || waiter.rowId === undefined) return;
    try {
      this.shared.dropWaiter(waiter.rowId);
    } catch (err) {
      // Its owner's rows go with the process; until then the head is skipped by nobody: log it.
      this.logger.warn('Cost ledger: could not leave the shared budget queue', err);
    }
  }

  private dropSharedReservation(reservation: LedgerReservation): void {
    const shared = this.shared;
    if (!shared || reservation.rowId === undefined) return;
    const rowId = reservation.rowId;
    try {
      shared.transact(() => shared.dropReservation(rowId));
    } catch (err) {
      this.pendingDrops.push(rowId);
      this.logger.warn('Cost ledger: could not release a reservation now; it is released with the next write', err);
    }
  }

  private sharedSettle(reservation: Reservation, entry: Omit<LedgerEntry, 'at'>, nano: number): void {
    if (reservation instanceof LedgerReservation && reservation.ledger === this && reservation.rowId !== undefined) this.pendingDrops.push(reservation.rowId);
    this.unwritten.push({
      requestId: entry.requestId,
      at: this.clock.now(),
      source: entry.source ?? 'other',
      task: entry.task,
      agentId: entry.agentId,
      model: entry.model,
      inputTokens: entry.usage.inputTokens,
      outputTokens: entry.usage.outputTokens,
      cacheReadTokens: entry.usage.cacheReadTokens,
      cacheWriteTokens: entry.usage.cacheWriteTokens,
      costNano: nano,
      savedNano: 0,
      cached: entry.cached,
      outcome: entry.outcome ?? 'ok',
      ...(entry.ttftMs !== undefined ? { ttftMs: entry.ttftMs } : {}),
      ...(entry.totalMs !== undefined ? { totalMs: entry.totalMs } : {}),
    });
    this.writeUnwritten();
    this.serveWaiters();
    this.sharedAlerts();
  }

  private sharedCacheHit(hit: CacheHitRecord, savedUsd: number): void {
    const usage = hit.usage ?? ZERO_USAGE;
    this.unwritten.push({
      requestId: hit.requestId,
      at: this.clock.now(),
      source: hit.source ?? 'other',
      task: hit.task,
      agentId: hit.agentId,
      model: hit.model ?? '',
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      costNano: 0,
      savedNano: usdToNano(savedUsd),
      cached: true,
      outcome: 'cache-hit',
    });
    this.writeUnwritten();
  }

  /** Writes settled costs (and gives back reservations) not yet written; on failure keeps them for the next try. */
  private writeUnwritten(): void {
    const shared = this.shared;
    if (!shared || (this.unwritten.length === 0 && this.pendingDrops.length === 0)) return;
    try {
      shared.transact(() => {
        for (const id of this.pendingDrops) shared.dropReservation(id);
        for (const row of this.unwritten) shared.addEntry(row);
        // Every process's totals as of this commit, for the alerts: no second read after it.
        if (this.limited()) this.syncShared(shared);
      });
      this.pendingDrops.length = 0;
      this.unwritten.length = 0;
    } catch (err) {
      // Its reservation stays counted for every process meanwhile, so the budget still holds.
      this.logger.error(`Cost ledger: could not write ${this.unwritten.length} settled cost(s) (${writeFailure(err)}); kept in memory and written with the next request or at exit.`, err);
    }
  }

  /** Fires alerts against every process's spend, once across processes (the fired ones are shared). */
  private sharedAlerts(): void {
    const shared = this.shared;
    if (!shared) return;
    // Below the lowest threshold of every limit nothing can fire: no read of the fired alerts.
    const lowest = Math.min(1, ...this.policy.alertAt);
    const near = (spent: number, limitUsd: number | undefined): boolean => limitUsd !== undefined && spent >= lowest * usdToNano(limitUsd);
    if (!near(this.monthNano, this.policy.monthlyUsd) && !near(this.byDay.get(this.today) ?? 0, this.policy.dailyUsd)) return;
    try {
      this.loadAlerts();
    } catch (err) {
      this.logger.debug('Cost ledger: could not read the fired alerts', err);
      return;
    }
    if (this.checkAlerts()) this.schedulePersist();
  }

  private loadAlerts(): void {
    let raw: unknown;
    try {
      raw = this.store.get(ALERTS_STATE_KEY);
    } catch {
      return;
    }
    if (!isRecord(raw)) return;
    for (const period of ['month', 'day'] as const) {
      const parsed = firedSchema.safeParse(raw[period]);
      if (parsed.success) this.fired[period] = parsed.data;
    }
  }

  private sharedSummary(shared: SharedLedger): SpendSummary {
    const version = shared.version();
    const cached = this.summaryCache;
    if (cached && cached.version === version && cached.day === this.today) return { ...cached.summary, monthAlert: this.highestFired('month', this.month, this.policy.monthlyUsd), dayAlert: this.highestFired('day', this.today, this.policy.dailyUsd) };
    this.syncShared(shared);
    const stats = shared.monthStats(this.month);
    const byDay = shared.byDay(utcDay(this.clock.now() - LEDGER_KEEP_DAYS * DAY_MS));
    const summary = this.buildSummary(stats, byDay);
    this.summaryCache = { version, day: this.today, summary };
    return summary;
  }

  private sharedRecent(shared: SharedLedger, limit: number): LedgerEntry[] {
    return shared.recent(limit).map((r) => ({
      requestId: r.requestId,
      at: r.at,
      agentId: r.agentId,
      model: r.model,
      task: r.task,
      usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheWriteTokens: r.cacheWriteTokens },
      costUsd: nanoToUsd(r.costNano),
      cached: r.cached,
      source: r.source,
      outcome: r.outcome,
      ...(r.ttftMs !== undefined ? { ttftMs: r.ttftMs } : {}),
      ...(r.totalMs !== undefined ? { totalMs: r.totalMs } : {}),
    }));
  }
}
