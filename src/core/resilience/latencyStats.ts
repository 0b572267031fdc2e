// How fast each agent answers, measured from its own answers: time to first token (the last
// TTFT_SAMPLES of them, read as percentiles), output tokens per second (an EWMA) and outcome counts.
// The deadlines learn from it (deadlines.ts), the dashboard and `maof breakers --json` show it, and a
// hedge may read its percentiles. Bounded per agent; persisted beside the breakers.
import { z } from 'zod';
import { salvageRecord, type Salvage } from '../persistence/persistedSlot';

/** Samples kept per agent: enough for a stable 95th percentile, few enough to follow a change within a day. */
export const TTFT_SAMPLES = 64;
/** Weight of the newest answer in the tokens-per-second average. */
const TPS_ALPHA = 0.2;

export type LatencyOutcome = 'ok' | 'stalled' | 'failed';

const snapshotSchema = z.object({
  /** Time to first token in ms, oldest first, at most TTFT_SAMPLES. */
  ttftMs: z.array(z.number().nonnegative().finite()).max(TTFT_SAMPLES),
  tokensPerSec: z.number().nonnegative().finite().optional(),
  ok: z.number().int().nonnegative(),
  stalled: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});

export type LatencySnapshot = z.output<typeof snapshotSchema>;

export const salvageLatencySnapshots: Salvage<Record<string, LatencySnapshot>> = salvageRecord(snapshotSchema, 'latency');

class AgentLatency {
  ttft: number[] = [];
  /** Where the next sample goes once the ring is full. */
  next = 0;
  tokensPerSec: number | undefined;
  ok = 0;
  stalled = 0;
  failed = 0;
  /** Sorted copy of `ttft`, made on the first percentile read after a change. */
  private sorted: number[] | undefined;

  addTtft(ms: number): void {
    if (this.ttft.length < TTFT_SAMPLES) this.ttft.push(ms);
    else {
      this.ttft[this.next] = ms;
      this.next = (this.next + 1) % TTFT_SAMPLES;
    }
    this.sorted = undefined;
  }

  /** Nearest-rank percentile of the kept samples. */
  percentile(p: number): number | undefined {
    if (this.ttft.length === 0) return undefined;
    this.sorted ??= [...this.ttft].sort((a, b) => a - b);
    const rank = Math.min(this.sorted.length, Math.max(1, Math.ceil(p * this.sorted.length)));
    return this.sorted[rank - 1];
  }

  snapshot(): LatencySnapshot {
    // Oldest first, so that a restored ring keeps replacing the oldest sample.
    const ttftMs = this.ttft.length < TTFT_SAMPLES ? [...this.ttft] : [...this.ttft.slice(this.next), ...this.ttft.slice(0, this.next)];
    return { ttftMs, ...(this.tokensPerSec !== undefined ? { tokensPerSec: this.tokensPerSec } : {}), ok: this.ok, stalled: this.stalled, failed: this.failed };
  }
}

export class LatencyStats {
  private readonly agents = new Map<string, AgentLatency>();

  /** `onChange`: the stats moved (saved throttled by the owner). */
  constructor(private readonly onChange: () => void = () => undefined) {}

  /**
   * An answer that came: its time to first token, and (streamed long enough to measure) its
   * output tokens over the time from the first token to the end.
   */
  recordAnswer(agentId: string, ttftMs: number, outputTokens: number, streamMs: number): void {
    const a = this.agent(agentId);
    a.addTtft(Math.max(0, ttftMs));
    a.ok++;
    if (outputTokens > 1 && streamMs >= 50) {
      const tps = (outputTokens * 1000) / streamMs;
      a.tokensPerSec = a.tokensPerSec === undefined ? tps : a.tokensPerSec + TPS_ALPHA * (tps - a.tokensPerSec);
    }
    this.onChange();
  }

  /** An attempt that ended without an answer: missed a deadline (`stalled`) or failed otherwise. */
  recordFailure(agentId: string, outcome: Exclude<LatencyOutcome, 'ok'>): void {
    this.agent(agentId)[outcome]++;
    this.onChange();
  }

  /** The agent's `p` percentile (0–1) time to first token in ms; undefined before any answer. */
  ttftPercentile(agentId: string, p: number): number | undefined {
    return this.agents.get(agentId)?.percentile(p);
  }

  /** How many first-token times are kept for the agent. */
  samples(agentId: string): number {
    return this.agents.get(agentId)?.ttft.length ?? 0;
  }

  snapshot(agentId: string): LatencySnapshot | undefined {
    return this.agents.get(agentId)?.snapshot();
  }

  snapshots(): Record<string, LatencySnapshot> {
    return Object.fromEntries([...this.agents].map(([id, a]) => [id, a.snapshot()]));
  }

  restore(saved: Record<string, LatencySnapshot>): void {
    for (const [agentId, snap] of Object.entries(saved)) {
      const a = this.agent(agentId);
      for (const ms of snap.ttftMs) a.addTtft(ms);
      a.tokensPerSec = snap.tokensPerSec;
      a.ok = snap.ok;
      a.stalled = snap.stalled;
      a.failed = snap.failed;
    }
  }

  private agent(agentId: string): AgentLatency {
    let a = this.agents.get(agentId);
    if (!a) {
      a = new AgentLatency();
      this.agents.set(agentId, a);
    }
    return a;
  }
}
