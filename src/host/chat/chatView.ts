// The side-panel chat (webview view `maof.chatView`): streams answers from the core into the
// webview, narrates retries and fallbacks live, applies code to the editor, and keeps each
// workspace's conversation in workspaceState so it survives a reload.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { ContextItem } from '../../core/context/contextPruner';
import type { MaofEvent } from '../../core/events';
import type { Turn } from '../../core/memory/sessionMemory';
import {
  parseChatMessage,
  type ChatAgentInfo,
  type ChatHistoryMessage,
  type ChatHostMessage,
  type ChatState,
  type ChatWait,
  type ChatWebviewMessage,
  type ChatWebviewMessageOf,
  type WaitAction,
} from '../../shared/chatProtocol';
import { boundHistory, errorInfo, HISTORY_MAX_MESSAGES, restoreChat, resultMeta, statusLine, type SavedChat } from './chatModel';
import { systemClock } from '../../core/clock';
import { PersistedSlot } from '../../core/persistence/persistedSlot';
import { mementoStateStore } from '../platform/mementoStateStore';
import { formatUsd } from '../../shared/format';
import { DeltaCoalescer } from './deltaCoalescer';
import { keyStatus } from '../platform/keyNames';
import { runAction, sanitizeForUser } from '../platform/errors';
import type { MaofServices } from '../platform/services';
import { markChatAnswered } from '../platform/walkthroughSteps';
import { webviewHtml, webviewOptions } from '../webviews/webviewHtml';
import { WebviewHost } from '../webviews/webviewHost';
import { COMMANDS, VIEWS } from '../platform/ids';

import { userTurn } from '../../core/types';
export const CHAT_STATE_KEY = 'maof.chat.v1';
const SAVE_DELAY_MS = 500;

/** What the extension API exposes of the chat, for integration tests and the benchmark. */
export interface ChatViewHandle {
  /** Every message the host posts to the chat webview, as it is posted. */
  readonly onDidPostMessage: vscode.Event<ChatHostMessage>;
  /** Handles `raw` exactly as if the webview had posted it; resolves when it was handled. */
  receive(raw: unknown): Promise<void>;
  history(): ChatHistoryMessage[];
  readonly sessionId: string;
  /** The webview is resolved and its script said it is ready. */
  readonly ready: boolean;
  /** Resolves once the webview's script has said it is ready. */
  whenReady(): Promise<void>;
}

interface Running {
  controller: AbortController;
  requestId: string;
  /** What was sent, so "Switch agent" can ask another agent the same. */
  prompt: string;
  includeContext: boolean;
  /** Set while the request waits instead of failing (rate-limit pause, open breakers, budget). */
  wait?: ChatWait;
}

let current: ChatViewProvider | undefined;

/** The chat of this window, once registered. */
export function chatViewHandle(): ChatViewHandle | undefined {
  return current;
}

class ChatViewProvider extends WebviewHost<ChatHostMessage, ChatWebviewMessage> implements vscode.WebviewViewProvider, ChatViewHandle {
  private coreUnsubscribe: (() => void) | undefined;
  private state: SavedChat;
  private readonly running = new Map<string, Running>();
  private readonly slot: PersistedSlot<SavedChat>;
  /** Sessions whose core memory was seeded from restored history. */
  private readonly seeded = new Set<string>();
  private stateSeq = 0;

  constructor(private readonly services: MaofServices) {
    super({ name: 'Chat', readyType: 'chat/ready', parse: parseChatMessage, logger: services.logger });
    const ctx = services.extensionContext;
    this.slot = new PersistedSlot({
      store: mementoStateStore(ctx.workspaceState),
      key: CHAT_STATE_KEY,
      label: 'Chat',
      salvage: (raw, problems) => restoreChat(raw, () => randomUUID(), problems),
      snapshot: () => this.savedState(),
      clock: systemClock,
      intervalMs: SAVE_DELAY_MS,
      logger: services.logger,
    });
    this.state = this.slot.load() ?? restoreChat(undefined, () => randomUUID());
    this.own(services.onDidChangeConfig(() => void this.postState(false)));
    this.own(services.keys.onDidChange(() => void this.postState(false)));
  }

  get sessionId(): string {
    return this.state.sessionId;
  }

  history(): ChatHistoryMessage[] {
    return this.state.messages.map((m) => ({ ...m }));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.detach();
    const extensionUri = this.services.extensionContext.extensionUri;
    view.webview.options = webviewOptions(extensionUri);
    view.webview.html = webviewHtml(view.webview, extensionUri, 'chat', 'MAOF Chat');
    this.attach(view);
    this.listenToCore();
  }

  override dispose(): void {
    for (const r of this.running.values()) r.controller.abort();
    this.running.clear();
    this.saveNow();
    this.coreUnsubscribe?.();
    this.coreUnsubscribe = undefined;
    super.dispose();
    if (current === this) current = undefined;
  }

  // ---- messages from the webview ---------------------------------------------------------------

  protected override onReady(): Promise<void> {
    return this.postState(true);
  }

  protected override onMalformed(error: string, type: ChatWebviewMessage['type'] | undefined): void {
    if (type === 'chat/send') {
      this.appendError('BAD_REQUEST', `That message could not be sent: ${error.replace(/^chat\/send: /, '')}.`);
    }
  }

  protected override onFailed(message: ChatWebviewMessage): void {
    if (message.type === 'chat/send') this.appendError('UPSTREAM', 'Something went wrong sending that message — see the MAOF log.');
    else this.post({ type: 'chat/notice', kind: 'error', text: 'That did not work — see the MAOF log for details.' });
  }

  protected override async onMessage(message: ChatWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'chat/send':
        await this.send(message);
        return;
      case 'chat/stop':
        this.running.get(message.messageId)?.controller.abort();
        return;
      case 'chat/copy':
        await vscode.env.clipboard.writeText(message.code);
        this.post({ type: 'chat/notice', kind: 'info', text: 'Copied to the clipboard.' });
        return;
      case 'chat/insert':
      case 'chat/apply':
        await this.editCode(message.type === 'chat/apply', message.code, message.language);
        return;
      case 'chat/clear':
        for (const r of this.running.values()) r.controller.abort();
        this.forgetMemory(this.state.sessionId);
        this.state = { ...this.state, sessionId: randomUUID(), messages: [] };
        this.scheduleSave();
        await this.postState(true);
        return;
      case 'chat/setAgent': {
        const known = message.agentId === 'auto' || this.services.config().agents.some((a) => a.id === message.agentId);
        this.state = {
          ...this.state,
          selectedAgent: known ? message.agentId : 'auto',
          includeContext: message.includeContext ?? this.state.includeContext,
        };
        this.scheduleSave();
        return;
      }
      case 'chat/action':
        await this.runAction(message.action);
        return;
      case 'chat/waitAction':
        await this.runWaitAction(message.messageId, message.action);
        return;
    }
  }

  private async runAction(action: ChatWebviewMessageOf<'chat/action'>['action']): Promise<void> {
    await runAction(action);
  }

  /** "Retry now" tries the waiting agent at once; "Switch agent" stops the request and asks another. */
  private async runWaitAction(messageId: string, action: WaitAction): Promise<void> {
    const running = this.running.get(messageId);
    if (!running?.wait) return;
    const waitingFor = running.wait.agentId;
    if (action === 'retryNow') {
      if (waitingFor && running.wait.reason !== 'budget') this.services.core.retryNow(waitingFor);
      else this.post({ type: 'chat/notice', kind: 'info', text: 'A budget wait ends when requests in flight settle — switch agent or raise the budget instead.' });
      return;
    }
    const others = this.services.config().agents.filter((a) => a.id !== waitingFor);
    const picked = await vscode.window.showQuickPick(
      others.map((a) => ({ label: a.id, description: a.model })),
      { title: 'MAOF: ask another agent', placeHolder: waitingFor ? `Instead of ${waitingFor}, which is waiting` : 'Pick an agent' },
    );
    if (!picked || !this.running.has(messageId)) return;
    running.controller.abort();
    await this.send({ type: 'chat/send', sessionId: this.state.sessionId, prompt: running.prompt, agentId: picked.label, includeContext: running.includeContext });
  }

  private async send(message: ChatWebviewMessageOf<'chat/send'>): Promise<void> {
    const config = this.services.config();
    const agentId = message.agentId;
    if (agentId !== 'auto' && !config.agents.some((a) => a.id === agentId)) {
      this.appendError('CONFIG', `Agent "${agentId}" is not configured any more — pick another agent above.`);
      await this.postState(false);
      return;
    }
    if (message.sessionId !== this.state.sessionId) {
      this.services.logger.debug('Chat: the webview sent an old session id; using the current conversation.');
    }
    const sessionId = this.state.sessionId;
    const now = Date.now();
    const user: ChatHistoryMessage = { id: randomUUID(), role: 'user', content: message.prompt, at: now, requestedAgent: agentId };
    const answer: ChatHistoryMessage = { id: randomUUID(), role: 'assistant', content: '', at: now, requestedAgent: agentId, pending: true };
    this.state = { ...this.state, selectedAgent: agentId, includeContext: message.includeContext };
    this.state.messages.push(user, answer);
    this.post({ type: 'chat/append', messages: [{ ...user }, { ...answer }] });
    this.scheduleSave();

    const controller = new AbortController();
    const requestId = randomUUID();
    const running: Running = { controller, requestId, prompt: message.prompt, includeContext: message.includeContext };
    this.running.set(answer.id, running);
    const maxAttempts = config.retry.maxAttempts;
    let unsubscribe = (): void => undefined;
    const coalescer = new DeltaCoalescer((text) => {
      answer.content += text;
      this.post({ type: 'chat/stream', messageId: answer.id, done: false, content: text });
    });
    try {
      unsubscribe = this.services.core.events.on((event: MaofEvent) => {
        if (!('requestId' in event) || event.requestId !== requestId) return;
        const line = statusLine(event, this.services.config().agents, maxAttempts);
        if (line) {
          running.wait = line.wait;
          this.post({ type: 'chat/status', messageId: answer.id, ...line });
        }
      });
      let context: ContextItem[] | undefined;
      if (message.includeContext) {
        try {
          context = await this.services.collectContext();
        } catch (err) {
          this.services.logger.warn('Chat: could not collect the editor context; sending without it.', err);
          this.post({ type: 'chat/status', messageId: answer.id, text: 'Could not read the editor — sending without context' });
        }
      }
      this.seedMemory(sessionId, user.id);
      const result = await this.services.core.run({
        messages: [userTurn(message.prompt)],
        source: 'MAOF chat',
        task: 'auto',
        agentId: agentId === 'auto' ? undefined : agentId,
        context,
        sessionId,
        stream: true,
        // Chat answers are prose for people: no JSON findings even for analysis.
        structured: false,
        onDelta: (text) => coalescer.push(text),
        onRestart: (restartAgent) => {
          coalescer.reset();
          answer.content = '';
          this.post({ type: 'chat/restart', messageId: answer.id, agentId: restartAgent });
        },
        signal: controller.signal,
        requestId,
      });
      coalescer.close();
      delete answer.pending;
      if (result.ok) {
        answer.content = result.text;
        answer.meta = resultMeta(result);
        this.post({ type: 'chat/stream', messageId: answer.id, done: true, meta: answer.meta, text: result.text });
        markChatAnswered();
      } else {
        const error = result.error.code === 'CANCELLED' ? { code: 'CANCELLED', message: stoppedMessage(result.costUsd) } : errorInfo(result.error, (t) => sanitizeForUser(t, []));
        answer.error = error;
        this.post({ type: 'chat/stream', messageId: answer.id, done: true, error });
      }
    } catch (err) {
      coalescer.close();
      delete answer.pending;
      this.services.logger.error('Chat: the request failed unexpectedly', err);
      answer.error = { code: 'UPSTREAM', message: 'Something unexpected went wrong — see the MAOF log for details.' };
      this.post({ type: 'chat/stream', messageId: answer.id, done: true, error: answer.error });
    } finally {
      unsubscribe();
      this.running.delete(answer.id);
      // At once, not debounced: a reload right after the answer must not find it half-saved.
      this.saveNow();
    }
  }

  /**
   * The core's conversation memory lives in memory only: after a reload, the restored turns
   * are handed back to it once, so the agent still knows what was said.
   */
  private seedMemory(sessionId: string, beforeId: string): void {
    if (this.seeded.has(sessionId)) return;
    this.seeded.add(sessionId);
    const turns: Turn[] = [];
    for (const m of this.state.messages) {
      if (m.id === beforeId) break;
      if (m.error || m.pending || m.content === '') continue;
      turns.push({ role: m.role, content: m.content, at: m.at, task: m.meta?.task ?? 'auto', agentId: m.meta?.agentId });
    }
    this.services.core.seedSession(sessionId, turns);
  }

  private forgetMemory(sessionId: string): void {
    this.services.core.forgetSession(sessionId);
  }

  private async editCode(replaceSelection: boolean, code: string, language: string | undefined): Promise<void> {
    const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) {
      const doc = await vscode.workspace.openTextDocument({ content: code, language: language && /^[\w+#.-]+$/.test(language) ? language : undefined });
      await vscode.window.showTextDocument(doc, { preview: false });
      this.post({ type: 'chat/notice', kind: 'info', text: 'No editor was open — the code is in a new tab.' });
      return;
    }
    const selection = editor.selection;
    // One edit call is one undo step.
    const ok = await editor.edit((b) => {
      if (replaceSelection && !selection.isEmpty) b.replace(selection, code);
      else b.insert(selection.active, code);
    });
    if (!ok) {
      this.post({ type: 'chat/notice', kind: 'error', text: 'The editor did not accept the change (is the file read-only?).' });
      return;
    }
    editor.revealRange(new vscode.Range(selection.start, selection.start), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    const name = editor.document.isUntitled ? 'the editor' : vscode.workspace.asRelativePath(editor.document.uri, false);
    const verb = replaceSelection && !selection.isEmpty ? 'Replaced the selection in' : 'Inserted into';
    this.post({ type: 'chat/notice', kind: 'info', text: `${verb} ${name} — undo with Ctrl+Z / Cmd+Z.` });
  }

  // ---- to the webview ---------------------------------------------------------------------------

  private appendError(code: string, text: string): void {
    const msg: ChatHistoryMessage = { id: randomUUID(), role: 'assistant', content: '', at: Date.now(), error: { code, message: text } };
    this.state.messages.push(msg);
    this.post({ type: 'chat/append', messages: [{ ...msg }] });
    this.scheduleSave();
  }

  private async agents(): Promise<ChatAgentInfo[]> {
    const config = this.services.config();
    const { core } = this.services;
    return Promise.all(
      config.agents.map(async (a) => {
        const info: ChatAgentInfo = {
          id: a.id,
          label: a.id === a.model ? a.id : `${a.id} (${a.model})`,
          provider: a.provider,
          model: a.model,
          breaker: core.breakerState(a.id),
          key: keyStatus(a, await this.services.keys.hasKeyFor(a.id).catch(() => false)),
        };
        if (a.description) info.description = a.description;
        return info;
      }),
    );
  }

  /** Posts agents and settings, and with `withHistory` the whole conversation. */
  private async postState(withHistory: boolean): Promise<void> {
    if (!this.attached) return;
    const seq = ++this.stateSeq;
    const agents = await this.agents();
    // A newer state was composed while the keys were read: it wins.
    if (seq !== this.stateSeq && !withHistory) return;
    const state: ChatState = {
      sessionId: this.state.sessionId,
      agents,
      selectedAgent: this.state.selectedAgent,
      includeContext: this.state.includeContext,
    };
    if (withHistory) state.history = this.history();
    this.post({ type: 'chat/state', ...state });
  }

  private listenToCore(): void {
    this.coreUnsubscribe ??= this.services.core.events.onType('breaker.changed', () => void this.postState(false));
  }

  // ---- persistence ------------------------------------------------------------------------------

  private scheduleSave(): void {
    this.slot.save();
  }

  private saveNow(): void {
    this.slot.save(true);
  }

  private savedState(): SavedChat {
    // Bounded in memory too, keeping the objects that streaming answers still write to.
    const live = this.state.messages;
    if (live.length > HISTORY_MAX_MESSAGES) live.splice(0, live.length - HISTORY_MAX_MESSAGES);
    return { ...this.state, messages: boundHistory(live) };
  }
}

/** A stopped answer says what it cost: the agent had read the prompt and written part of it. */
export function stoppedMessage(costUsd: number): string {
  return costUsd > 0 ? `Stopped. ${formatUsd(costUsd)} billed for what the agent read and wrote.` : 'Stopped.';
}

export function registerChatView(services: MaofServices): vscode.Disposable {
  const provider = new ChatViewProvider(services);
  current = provider;
  return vscode.Disposable.from(
    services.registry.registerWebviewViewProvider(VIEWS.chat, provider),
    services.registry.registerCommand(COMMANDS.openChat, () => vscode.commands.executeCommand(`${VIEWS.chat}.focus`)),
    provider,
  );
}
