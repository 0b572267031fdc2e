// Agents whose provider said their account is out of credit (OUT_OF_CREDIT): skipped like an agent
// without a key, not asked again on every request, until the key changes (the mark names a tag of
// the key it was made with) or the user resets the agent's breaker. Persisted, so a CLI run does
// not ask again either.
import { z } from 'zod';
import { sha256 } from '../hash';
import { salvageRecord, type Salvage } from '../persistence/persistedSlot';

const markSchema = z.object({ keyTag: z.string().min(1).max(64) });
export type CreditMark = z.output<typeof markSchema>;
export const salvageCreditMarks: Salvage<Record<string, CreditMark>> = salvageRecord(markSchema, 'out-of-credit marks');

/** A one-way tag of the limiter's key id (itself a hash): enough to see the key changed, nothing more. */
export function keyTagOf(keyId: string): string {
  return sha256(`credit|${keyId}`, 'hex').slice(0, 16);
}

export class CreditMarks {
  private readonly marks = new Map<string, string>();

  constructor(private readonly onChange: () => void = () => undefined) {}

  mark(agentId: string, keyTag: string): void {
    if (this.marks.get(agentId) === keyTag) return;
    this.marks.set(agentId, keyTag);
    this.onChange();
  }

  /** Out of credit with this very key; a mark made with another key no longer holds. */
  isMarked(agentId: string, keyTag: string): boolean {
    return this.marks.get(agentId) === keyTag;
  }

  /** Whether any mark is held (the hot path asks nothing more when none is). */
  get size(): number {
    return this.marks.size;
  }

  /** The user reset the agent's breaker (or all of them): ask it again. */
  clear(agentId?: string): void {
    if (agentId === undefined ? this.marks.size === 0 : !this.marks.has(agentId)) return;
    if (agentId === undefined) this.marks.clear();
    else this.marks.delete(agentId);
    this.onChange();
  }

  has(agentId: string): boolean {
    return this.marks.has(agentId);
  }

  snapshots(): Record<string, CreditMark> {
    return Object.fromEntries([...this.marks].map(([id, keyTag]) => [id, { keyTag }]));
  }

  restore(saved: Record<string, CreditMark>): void {
    for (const [agentId, m] of Object.entries(saved)) this.marks.set(agentId, m.keyTag);
  }
}
