// Request latency per agent for the dashboard: the last N durations of each agent in a fixed-size
// ring buffer (memory stays flat however long the window is open) and p50 / p95 over them.

/** A fixed-capacity buffer that overwrites its oldest value. */
export class RingBuffer {
  private readonly values: number[] = [];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  push(value: number): void {
    if (this.values.length < this.capacity) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
  }

  get size(): number {
    return this.values.length;
  }

  /** Values oldest first. */
  toArray(): number[] {
    if (this.values.length < this.capacity) return [...this.values];
    return [...this.values.slice(this.next), ...this.values.slice(0, this.next)];
  }
}

/** Nearest-rank percentile (p in [0, 1]) of unsorted values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

export interface LatencyStats {
  agentId: string;
  p50Ms: number;
  p95Ms: number;
  samples: number;
}

export class LatencyTracker {
  private readonly byAgent = new Map<string, RingBuffer>();

  constructor(private readonly samplesPerAgent = 200) {}

  record(agentId: string, durationMs: number): void {
    if (!Number.isFinite(durationMs) || durationMs < 0) return;
    let ring = this.byAgent.get(agentId);
    if (!ring) {
      ring = new RingBuffer(this.samplesPerAgent);
      this.byAgent.set(agentId, ring);
    }
    ring.push(durationMs);
  }

  /** One row per agent with samples, by agent id. */
  stats(): LatencyStats[] {
    const out: LatencyStats[] = [];
    for (const [agentId, ring] of this.byAgent) {
      const values = ring.toArray();
      out.push({ agentId, p50Ms: percentile(values, 0.5) ?? 0, p95Ms: percentile(values, 0.95) ?? 0, samples: values.length });
    }
    return out.sort((a, b) => a.agentId.localeCompare(b.agentId));
  }
}
