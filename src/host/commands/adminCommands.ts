// Housekeeping commands: Set / Clear API Key, Reset Circuit Breakers, Diagnose (a report that never
// shows a key or an endpoint, with an opt-in live check) and Export Usage (CSV or JSON ledger).
import * as os from 'node:os';
import * as vscode from 'vscode';
import { formatUsd } from '../../core/cost/costCalculator';
import { LEDGER_MAX_ENTRIES } from '../../core/cost/costLedger';
import { priceIsUnknown, type AgentConfig } from '../../core/config/schema';
import { builtInPrice } from '../../core/cost/priceTable';
import { providerLabel } from '../../core/errors';
import { describeIssue } from '../platform/configMessages';
import { keyStatus } from '../platform/keyNames';
import { usageCsv } from '../dashboard/usageCsv';
import { seconds, openMarkdown } from './markdownReport';
import { withRequestProgress } from './requestProgress';
import type { KeyTarget, MaofServices } from '../boot/services';
import { userTurn } from '../../core/types';
import { COMMANDS } from '../boot/ids';

/** `{provider: 'openai'}` or `{agentId: 'x'}` preselects which key (never the key itself). */
export function keyTargetArgument(args: unknown): KeyTarget | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const { provider, agentId } = args as { provider?: unknown; agentId?: unknown };
  if (provider === 'openai' || provider === 'anthropic') return { kind: 'provider', provider };
  if (typeof agentId === 'string' && agentId) return { kind: 'agent', agentId };
  return undefined;
}

async function resetBreakers(services: MaofServices): Promise<number> {
  const registry = services.orchestrator.breakers;
  const tripped = services
    .config()
    .agents.map((a) => ({ id: a.id, state: registry.get(a.id).state }))
    .filter((b) => b.state !== 'closed');
  if (tripped.length === 0) {
    void vscode.window.showInformationMessage('MAOF: every circuit breaker is closed — all agents are available.');
    return 0;
  }
  const list = tripped.map((b) => `${b.id} (${b.state})`).join(', ');
  const choice = await vscode.window.showWarningMessage(`Reset the circuit breakers of ${list}?`, { modal: true, detail: 'MAOF will send requests to these agents again right away, even if they are still failing.' }, 'Reset');
  if (choice !== 'Reset') return 0;
  for (const b of tripped) registry.reset(b.id);
  services.logger.info(`Circuit breakers reset by the user: ${list}.`);
  void vscode.window.showInformationMessage(`MAOF: reset ${tripped.length} circuit breaker${tripped.length === 1 ? '' : 's'}.`);
  return tripped.length;
}

// ---- diagnose -----------------------------------------------------------------------------------

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
    const result = await services.orchestrator.run({ messages: [userTurn(`Reply with OK. (connectivity check ${Date.now().toString(36)})`)], agentId: agent.id, task: 'writing', maxOutputTokens: 1, temperature: 0, structured: false, signal, source: 'commands' });
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

async function diagnose(services: MaofServices, args: unknown): Promise<vscode.TextDocument | undefined> {
  const explicit = typeof args === 'object' && args !== null ? (args as { connectivity?: unknown }).connectivity : undefined;
  let live = explicit === true;
  if (explicit === undefined) {
    const choice = await vscode.window.showInformationMessage(
      'MAOF Diagnose: also run a live connectivity check?',
      { modal: true, detail: 'It sends one tiny request (1 output token) per provider with a key, which costs a fraction of a cent.' },
      'Check Connectivity',
      'Report Only',
    );
    if (choice === undefined) return undefined;
    live = choice === 'Check Connectivity';
  }
  return openMarkdown(await diagnoseReport(services, live), 'MAOF Diagnostics');
}

/** The Diagnose report as markdown (also what `@maof /diagnose` shows); `live` adds the connectivity check. */
/**
 * The Markdown report of Diagnose. `live`: the connectivity checks were asked for. `howToCheck`:
 * where the reader asks for them — the palette command offers a button, the Chat does not.
 */
export async function diagnoseReport(services: MaofServices, live: boolean, howToCheck = 'run Diagnose again and choose "Check Connectivity"'): Promise<string> {
  const config = services.config();
  const orchestrator = services.orchestrator;
  const ext = services.extensionContext.extension;
  const version = (ext.packageJSON as { version?: unknown }).version;
  const summary = orchestrator.ledger.summary();
  const lines = [
    '# MAOF diagnostics',
    '',
    `- MAOF ${typeof version === 'string' ? version : '?'} · VS Code ${vscode.version} · ${os.platform()} ${os.arch()}`,
    `- Workspace trusted: ${vscode.workspace.isTrusted ? 'yes' : 'no (only the selection is sent without asking)'}`,
    `- Response cache: ${config.cache.enabled ? `on (${orchestrator.cache.stats().entries} entries)` : 'off'}`,
    '',
    '## Agents',
    '',
  ];
  // One item per agent, not an eight-column table: the report is also what `@maof /diagnose`
  // shows in the Chat's narrow side panel, where a wide table was cut off on the right.
  for (const a of config.agents) {
    const key = { set: 'key set', missing: '**no key**', 'not-needed': 'no key needed' }[keyStatus(a, await services.keys.hasKeyFor(a.id))];
    lines.push(`- **${a.id}** — ${a.model} (${providerLabel(a.provider)}, ${a.baseUrl ? 'custom endpoint' : 'default endpoint'})  `); // two spaces: a line break
    lines.push(`  ${key} · ${priceLabel(a)} · breaker ${orchestrator.breakers.get(a.id).state} · ${formatUsd(summary.byAgent[a.id] ?? 0)} this month`);
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
    const results = await withRequestProgress({ title: 'MAOF: checking connectivity', verb: 'Checking', events: orchestrator.events, anyRequest: true }, (run) => checkConnectivity(services, run.signal));
    for (const r of results) lines.push(`- **${r.group}**: ${r.line}`);
  } else {
    lines.push(`Not checked (${howToCheck}).`);
  }
  lines.push('');
  return lines.join('\n');
}

// ---- export -------------------------------------------------------------------------------------

async function exportUsage(services: MaofServices, args: unknown): Promise<vscode.Uri | undefined> {
  const summary = services.orchestrator.ledger.summary();
  let target: vscode.Uri | undefined;
  const given = typeof args === 'object' && args !== null ? (args as { uri?: unknown }).uri : undefined;
  if (given instanceof vscode.Uri) target = given;
  else if (typeof given === 'string' && given) target = vscode.Uri.file(given);
  if (!target) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    target = await vscode.window.showSaveDialog({
      title: 'MAOF: Export Usage',
      defaultUri: vscode.Uri.joinPath(folder, `maof-usage-${summary.month}.csv`),
      filters: { CSV: ['csv'], JSON: ['json'] },
      saveLabel: 'Export',
    });
  }
  if (!target) return undefined;
  const entries = services.orchestrator.ledger.recent(LEDGER_MAX_ENTRIES).reverse();
  const json = target.path.toLowerCase().endsWith('.json');
  const body = json ? JSON.stringify({ exportedAt: new Date().toISOString(), summary, entries }, null, 2) + '\n' : usageCsv(entries);
  await vscode.workspace.fs.writeFile(target, Buffer.from(body, 'utf8'));
  const name = target.path.split('/').pop() ?? 'file';
  void vscode.window.showInformationMessage(`MAOF: exported ${entries.length} request${entries.length === 1 ? '' : 's'} to ${name}.`, 'Open').then((choice) => {
    if (choice === 'Open' && target) void vscode.window.showTextDocument(target);
  });
  return target;
}

export function registerAdminCommands(services: MaofServices): vscode.Disposable {
  return vscode.Disposable.from(
    services.registry.registerCommand(COMMANDS.setApiKey, (args: unknown) => services.keys.promptAndStore(keyTargetArgument(args))),
    services.registry.registerCommand(COMMANDS.clearApiKey, (args: unknown) => services.keys.clear(keyTargetArgument(args))),
    services.registry.registerCommand(COMMANDS.resetBreakers, () => resetBreakers(services)),
    services.registry.registerCommand(COMMANDS.diagnose, (args: unknown) => diagnose(services, args)),
    services.registry.registerCommand(COMMANDS.exportUsage, (args: unknown) => exportUsage(services, args)),
  );
}
