// MAOF as a language-model provider (vendor `maof`): VS Code's native Chat, Copilot's bring-your-
// own-key, Cline and Roo Code ("VS Code LM API") send their requests here, and each runs MAOF's
// whole pipeline — route, retries, breakers, per-key limits, budget reservation, ledger, events.
// Retries and fallbacks happen only until the first part has reached VS Code; after that a failure
// ends the response with a clear error instead of repeating text.
import * as vscode from 'vscode';
import type { MaofConfig } from '../../core/config/schema';
import { tokenizerFor, type Tokenizer } from '../../core/context/tokenizer';
import type { RunRequest } from '../../core/maofCore';
import type { MaofServices } from '../platform/services';
import { toCoreMessages, toCoreToolMode, toCoreTools } from './lmMessages';
import { modelCatalog, targetOf, type CatalogModel, type ModelTarget } from './modelCatalog';
import { MessageTokenCounter } from './tokenCount';
import { requestInitiatorOf, requestSourceOf } from './requestSource';
import { reportChatUse } from './chatUse';
import { LANGUAGE_MODEL_VENDOR } from '../platform/ids';
import { UpdateThrottle } from '../platform/updateThrottle';

interface MaofModelInfo extends vscode.LanguageModelChatInformation {
  readonly target: ModelTarget;
}

const ANNOUNCE_INTERVAL_MS = 250;

function signature(models: readonly MaofModelInfo[]): string {
  return JSON.stringify(models.map(({ id, name, family, version, detail, tooltip, maxInputTokens, maxOutputTokens, capabilities }) => [id, name, family, version, detail, tooltip, maxInputTokens, maxOutputTokens, capabilities]));
}

/**
 * Thrown into VS Code: its message is what the Chat shows. VS Code carries an error's stack across
 * to the caller and the Chat prints it after the message ("Reason: … at …/dist/host.js:…"): the
 * user reads the problem and the fix, never our stack frames or install path.
 */
class ChatModelError extends Error {
  constructor(message: string) {
    super(message);
    this.stack = '';
  }
}

export class MaofChatModelProvider implements vscode.LanguageModelChatProvider<MaofModelInfo>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** Agent ids with a key, as of the last check (refreshed when keys or settings change). */
  private keyed = new Set<string>();
  /** VS Code counts every message of every request: counts are remembered by text. */
  private readonly counter = new MessageTokenCounter();
  /** How often VS Code was told the models changed (test hook). */
  announcements = 0;
  /** The models as last announced (or first read): a change is announced only when they differ. */
  private announced = '';
  /** Settings, keys and breakers change in bursts (a settings write, a failure storm): one announcement. */
  private readonly announce = new UpdateThrottle(() => this.announceIfChanged(), ANNOUNCE_INTERVAL_MS);

  constructor(private readonly services: MaofServices) {
    this.disposables.push(
      services.onDidChangeConfig(() => void this.refreshKeys()),
      services.keys.onDidChange(() => void this.refreshKeys()),
      // A breaker that opens or closes changes which agent would answer (family) and which may.
      new vscode.Disposable(services.core.events.onType('breaker.changed', () => this.announce.request())),
      this.announce,
    );
    void this.refreshKeys();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private async refreshKeys(): Promise<void> {
    const config = this.services.config();
    const next = new Set<string>();
    for (const a of config.agents) if (await this.services.keys.hasKeyFor(a.id)) next.add(a.id);
    this.keyed = next;
    this.announce.request();
  }

  private announceIfChanged(): void {
    const now = signature(this.models());
    if (now === this.announced) return;
    this.announced = now;
    this.announcements++;
    this.changed.fire();
  }

  provideLanguageModelChatInformation(): MaofModelInfo[] {
    const models = this.models();
    // The first read is the baseline; later reads (vscode.lm asks afresh) do not move it, so a
    // change is still announced to the Chat's picker, which keeps what it resolved.
    if (this.announced === '') this.announced = signature(models);
    return models;
  }

  /** The models with what is true of them now: family, windows and capabilities of the agents that may answer. */
  private models(): MaofModelInfo[] {
    const ready = { hasKey: (id: string) => this.keyed.has(id), breakerOpen: (id: string) => this.services.core.breakerState(id) === 'open' };
    return modelCatalog(this.services.config(), ready).map((m: CatalogModel) => ({
      id: m.id,
      name: m.name,
      family: m.family,
      version: m.version,
      detail: m.detail,
      tooltip: m.tooltip,
      maxInputTokens: m.maxInputTokens,
      maxOutputTokens: m.maxOutputTokens,
      capabilities: m.capabilities,
      target: m.target,
    }));
  }

  async provideLanguageModelChatResponse(
    model: MaofModelInfo,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const config = this.services.config();
    const target = targetOf(model.id, config) ?? model.target;
    const conversation = toCoreMessages(messages);
    const tools = toCoreTools(options.tools);
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    let reported = false;
    let brokeOffAfter: string | undefined;
    // The utility flows and MCP sampling get sources of their own; the rest (the native Chat,
    // Copilot, Cline, Roo Code…) is the Language Model API.
    const initiator = requestInitiatorOf(options);
    const source = requestSourceOf(model.id, initiator);
    reportChatUse({ source, modelId: model.id, ...(initiator ? { initiator } : {}) });
    const req: RunRequest = {
      source,
      messages: conversation,
      instructions: 'own',
      stream: true,
      signal: abort.signal,
      ...(target.kind === 'agent' ? { agentId: target.agentId } : target.kind === 'task' ? { task: target.task } : { task: 'auto' }),
      ...(tools.length > 0 ? { tools, toolMode: toCoreToolMode(options.toolMode) } : {}),
      onDelta: (text) => {
        reported = true;
        progress.report(new vscode.LanguageModelTextPart(text));
      },
      onToolCall: (call) => {
        reported = true;
        progress.report(new vscode.LanguageModelToolCallPart(call.id, call.name, (call.input ?? {})));
      },
      // A new attempt after parts reached VS Code would repeat them: stop here instead.
      onRestart: (agentId) => {
        if (!reported) return;
        brokeOffAfter = agentId;
        abort.abort();
      },
    };
    try {
      const result = await this.services.core.run(req);
      if (brokeOffAfter !== undefined) {
        throw new ChatModelError(`MAOF: the answer broke off mid-way (agent "${brokeOffAfter}" failed after it had started), so it is incomplete. Ask again — MAOF retries or falls back only before an answer starts.`);
      }
      if (!result.ok) {
        if (result.error.code === 'CANCELLED' && token.isCancellationRequested) return;
        throw new ChatModelError(`MAOF: ${result.error.message}`);
      }
      // A cached or non-streamed answer arrives whole.
      if (!reported && result.text) progress.report(new vscode.LanguageModelTextPart(result.text));
      if (!reported) for (const call of result.toolCalls ?? []) progress.report(new vscode.LanguageModelToolCallPart(call.id, call.name, (call.input ?? {})));
    } finally {
      cancel.dispose();
    }
  }

  provideTokenCount(model: MaofModelInfo, text: string | vscode.LanguageModelChatRequestMessage): Promise<number> {
    return Promise.resolve(this.counter.count(this.tokenizerFor(model), text));
  }

  /** The tokenizer of the agent that would answer first (auto: the code route's primary). */
  private tokenizerFor(model: MaofModelInfo): Tokenizer {
    const config: MaofConfig = this.services.config();
    const t = targetOf(model.id, config) ?? model.target;
    const agentId = t.kind === 'agent' ? t.agentId : config.routes[t.kind === 'task' ? t.task : 'code']?.[0];
    const agent = config.agents.find((a) => a.id === agentId) ?? config.agents[0];
    return tokenizerFor(agent?.provider ?? 'openai', agent?.model ?? 'gpt-4.1');
  }
}

/** What the test API reads of the provider. */
export interface ChatModelProviderHandle {
  readonly announcements: number;
}

let current: MaofChatModelProvider | undefined;

/** The provider of this window, once registered. */
export function chatModelProviderHandle(): ChatModelProviderHandle | undefined {
  return current;
}

export function registerChatModelProvider(services: MaofServices): vscode.Disposable {
  const provider = new MaofChatModelProvider(services);
  current = provider;
  return vscode.Disposable.from(provider, services.registry.registerLanguageModelProvider(LANGUAGE_MODEL_VENDOR, provider), new vscode.Disposable(() => {
    if (current === provider) current = undefined;
  }));
}
