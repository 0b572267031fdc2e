// The Diagnose report as Markdown, read by the palette's "MAOF: Diagnose" and by `@maof /diagnose`:
// agents, routes, budget, settings problems and, when asked, a live connectivity check. It never
// shows a key or an endpoint.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { formatUsd } from '../../core/cost/costCalculator';
import { priceIsUnknown, type AgentConfig } from '../../core/config/schema';
import { builtInPrice } from '../../core/cost/priceTable';
import { providerLabel } from '../../core/errors';
import { userTurn } from '../../core/types';
import { describeIssue } from './configMessages';
import { keyStatus } from './keyNames';
import { seconds } from './markdownReport';
import { withRequestProgress } from './requestProgress';
import type { MaofServices } from './services';

interface Connectivity {
  group: string;
  line: string;
}

/** One tiny request per provider endpoint, with the first agent that has a key. */
async function checkConnectivity(services: MaofServices, signal: AbortSignal): Promise<Connectivity[]> {
  // Only agents some route uses: checking an agent nothing sends to would only cost time.
  const routed = new Set(Object.values(services.config().routes).flat());
  const groups = new Map<string, AgentConfig[]>();
  for (const a of services.config().agents.filter((x) => routed.has(x.id))) {
    // Each custom endpoint is its own group; the provider's own API is one group per provider.
    const group = a.baseUrl ? `${providerLabel(a.provider)} (custom endpoint, ${a.id})` : providerLabel(a.provider);
    groups.set(group, [...(groups.get(group) ?? []), a]);
  }
  const out: Connectivity[] = [];
  for (const [group, agents] of groups) {
    let agent: AgentConfig | undefined;
    for (const a of agents) if (keyStatus(a, await services.keys.hasKeyFor(a.id)) !== 'missing') agent = agent ?? a;
    if (!agent) {
      out.push({ group, line: 'skipped — no key set' });
      continue;
    }
    // A nonce keeps the answer out of the response cache: this must reach the provider.
    const result = await services.core.run({ messages: [userTurn(`Reply with OK. (connectivity check ${Date.now().toString(36)})`)], agentId: agent.id, task: 'writing', maxOutputTokens: 1, temperature: 0, structured: false, signal, source: 'commands' });
    out.push({
      group,
      line: result.ok ? `✓ ${agent.id} answered in ${seconds(result.durationMs)}` : `✗ ${agent.id}: ${result.error.code} — ${result.error.message}`,
    });
  }
  return out;
}

/** Where an agent's price comes from; "unknown" is also listed under settings problems. */
function priceLabel(agent: AgentConfig): string {
  if (agent.pricing) return 'price set';
  if (builtInPrice(agent.model)) return 'built-in price';
  return priceIsUnknown(agent) ? '**price unknown**' : 'free (this machine)';
}

/** The Diagnose report as markdown (also what `@maof /diagnose` shows); `live` adds the connectivity check. */
/**
 * The Markdown report of Diagnose. `live`: the connectivity checks were asked for. `howToCheck`:
 * where the reader asks for them — the palette command offers a button, the Chat does not.
 */
export async function diagnoseReport(services: MaofServices, live: boolean, howToCheck = 'run Diagnose again and choose "Check Connectivity"'): Promise<string> {
  const config = services.config();
  const { core } = services;
  const ext = services.extensionContext.extension;
  const version = (ext.packageJSON as { version?: unknown }).version;
  const summary = core.spend();
  const lines = [
    '# MAOF diagnostics',
    '',
    `- MAOF ${typeof version === 'string' ? version : '?'} · VS Code ${vscode.version} · ${os.platform()} ${os.arch()}`,
    `- Workspace trusted: ${vscode.workspace.isTrusted ? 'yes' : 'no (only the selection is sent without asking)'}`,
    `- Response cache: ${config.cache.enabled ? `on (${core.cacheEntries()} entries)` : 'off'}`,
    '',
    '## Agents',
    '',
  ];
  // One item per agent, not an eight-column table: the report is also what `@maof /diagnose`
  // shows in the Chat's narrow side panel, where a wide table was cut off on the right.
  for (const a of config.agents) {
    const key = { set: 'key set', missing: '**no key**', 'not-needed': 'no key needed' }[keyStatus(a, await services.keys.hasKeyFor(a.id))];
    lines.push(`- **${a.id}** — ${a.model} (${providerLabel(a.provider)}, ${a.baseUrl ? 'custom endpoint' : 'default endpoint'})  `); // two spaces: a line break
    lines.push(`  ${key} · ${priceLabel(a)} · breaker ${core.breakerState(a.id)} · ${formatUsd(summary.byAgent[a.id] ?? 0)} this month`);
  }
  lines.push('', '## Routes', '');
  for (const [task, ids] of Object.entries(config.routes)) lines.push(`- **${task}**: ${ids.length ? ids.join(' → ') : '_no agent_'}`);
  lines.push('', '## Budget', '');
  const limit = (spent: number, max: number | undefined): string => (max === undefined ? `${formatUsd(spent)} (no limit)` : `${formatUsd(spent)} of ${formatUsd(max)} (${Math.round((spent / Math.max(max, 1e-9)) * 100)} %)`);
  lines.push(`- This month (${summary.month}): ${limit(summary.monthUsd, summary.monthlyLimitUsd)}`);
  lines.push(`- Today: ${limit(summary.dayUsd, summary.dailyLimitUsd)}`);
  if (summary.perRequestLimitUsd !== undefined) lines.push(`- Per request: at most ${formatUsd(summary.perRequestLimitUsd)}`);
  lines.push(`- Requests this month: ${summary.requests}, cache hits: ${summary.cacheHits} (saved ${formatUsd(summary.savedUsd)})`);
  lines.push('', '## Settings problems', '');
  const issues = services.configIssues();
  if (issues.length === 0) lines.push('None.');
  for (const i of issues) lines.push(`- ${describeIssue(i)}`);
  lines.push('', '## Connectivity', '');
  if (live) {
    const results = await withRequestProgress({ title: 'MAOF: checking connectivity', verb: 'Checking', events: core.events, anyRequest: true }, (run) => checkConnectivity(services, run.signal));
    for (const r of results) lines.push(`- **${r.group}**: ${r.line}`);
  } else {
    lines.push(`Not checked (${howToCheck}).`);
  }
  lines.push('');
  return lines.join('\n');
}
