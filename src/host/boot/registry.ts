// Commands and the chat view exist from the moment MAOF activates, but their implementations live
// in the rest of the host (dist/host.js), which loads just after start-up or on first use,
// whichever comes first. The placeholders registered at activation hand each call to the real
// handler, loading the host first when it is not there yet. Imported by the entry point: it must
// stay small and import nothing but vscode and the ids.
import * as vscode from 'vscode';
import type { CommandId, PanelType, ViewId } from '../platform/ids';
import type { CommandHandler, HostRegistry, LanguageModelProviderImpl } from '../platform/services';

export type { HostRegistry };

/** What the placeholders of the Language Model API and chat participants are made from (package.json). */
export interface ChatContributions {
  /** `contributes.languageModelChatProviders[].vendor` */
  vendors: readonly string[];
  /** `contributes.chatParticipants[].id` */
  participants: readonly string[];
}

/** Thrown to a caller when the host failed to load; the user sees it as the command's error. */
export class HostUnavailableError extends Error {}

/**
 * Placeholders for the commands in package.json, the chat view and the webview panels VS Code may
 * restore after a reload (their serializers must exist from activation on); `load` brings up the
 * host, which registers the real handlers here. A command the manifest does not list (none today)
 * is registered with VS Code directly.
 */
export class LazyRegistry implements HostRegistry, vscode.Disposable {
  private readonly handlers = new Map<CommandId, CommandHandler>();
  private readonly views = new Map<ViewId, vscode.WebviewViewProvider>();
  private readonly serializers = new Map<PanelType, vscode.WebviewPanelSerializer>();
  private readonly lmProviders = new Map<string, LanguageModelProviderImpl>();
  private readonly lmChanged = new Map<string, vscode.EventEmitter<void>>();
  private readonly lmForwarders = new Map<string, vscode.Disposable>();
  private readonly participants = new Map<string, vscode.ChatRequestHandler>();
  private readonly placeholders: vscode.Disposable[] = [];
  private readonly placeholderIds = new Set<CommandId>();

  constructor(
    commandIds: readonly CommandId[],
    viewIds: readonly ViewId[],
    panelTypes: readonly PanelType[],
    private readonly load: () => void,
    chat: ChatContributions = { vendors: [], participants: [] },
  ) {
    for (const id of commandIds) {
      this.placeholderIds.add(id);
      this.placeholders.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.handlerFor(id)(...args)));
    }
    for (const id of viewIds) {
      this.placeholders.push(
        vscode.window.registerWebviewViewProvider(id, { resolveWebviewView: (view, ctx, token) => this.providerFor(id).resolveWebviewView(view, ctx, token) }, { webviewOptions: { retainContextWhenHidden: false } }),
      );
    }
    for (const type of panelTypes) {
      this.placeholders.push(vscode.window.registerWebviewPanelSerializer(type, { deserializeWebviewPanel: (panel, state) => this.serializerFor(type, panel).deserializeWebviewPanel(panel, state) }));
    }
    // The Language Model API and chat participants exist only in editors that have them.
    const lm = (vscode as { lm?: typeof vscode.lm }).lm;
    if (typeof lm?.registerLanguageModelChatProvider === 'function') {
      for (const vendor of chat.vendors) {
        const changed = new vscode.EventEmitter<void>();
        this.lmChanged.set(vendor, changed);
        this.placeholders.push(changed, lm.registerLanguageModelChatProvider(vendor, {
          onDidChangeLanguageModelChatInformation: changed.event,
          provideLanguageModelChatInformation: (options, token) => this.lmProviderFor(vendor).provideLanguageModelChatInformation(options, token),
          provideLanguageModelChatResponse: (model, messages, options, progress, token) => this.lmProviderFor(vendor).provideLanguageModelChatResponse(model, messages, options, progress, token),
          provideTokenCount: (model, text, token) => this.lmProviderFor(vendor).provideTokenCount(model, text, token),
        }));
      }
    }
    const chatApi = (vscode as { chat?: typeof vscode.chat }).chat;
    if (typeof chatApi?.createChatParticipant === 'function') {
      for (const id of chat.participants) {
        const participant = chatApi.createChatParticipant(id, (request, context, stream, token) => this.participantFor(id)(request, context, stream, token));
        participant.iconPath = new vscode.ThemeIcon('type-hierarchy-sub');
        this.placeholders.push(participant);
      }
    }
  }

  registerLanguageModelProvider(vendor: string, provider: LanguageModelProviderImpl): vscode.Disposable {
    this.lmProviders.set(vendor, provider);
    const changed = this.lmChanged.get(vendor);
    this.lmForwarders.get(vendor)?.dispose();
    const forward = provider.onDidChangeLanguageModelChatInformation?.(() => changed?.fire());
    if (forward) this.lmForwarders.set(vendor, forward);
    // The models VS Code listed before the host was up may differ: ask it to list them again.
    changed?.fire();
    return new vscode.Disposable(() => {
      if (this.lmProviders.get(vendor) !== provider) return;
      this.lmProviders.delete(vendor);
      this.lmForwarders.get(vendor)?.dispose();
      this.lmForwarders.delete(vendor);
    });
  }

  handledCommands(): CommandId[] {
    return [...this.handlers.keys()];
  }

  registerChatParticipant(id: string, handler: vscode.ChatRequestHandler): vscode.Disposable {
    this.participants.set(id, handler);
    return new vscode.Disposable(() => {
      if (this.participants.get(id) === handler) this.participants.delete(id);
    });
  }

  registerCommand(id: CommandId, handler: CommandHandler): vscode.Disposable {
    if (!this.placeholderIds.has(id)) return vscode.commands.registerCommand(id, handler);
    this.handlers.set(id, handler);
    return new vscode.Disposable(() => {
      if (this.handlers.get(id) === handler) this.handlers.delete(id);
    });
  }

  registerWebviewViewProvider(viewId: ViewId, provider: vscode.WebviewViewProvider): vscode.Disposable {
    this.views.set(viewId, provider);
    return new vscode.Disposable(() => {
      if (this.views.get(viewId) === provider) this.views.delete(viewId);
    });
  }

  registerWebviewPanelSerializer(viewType: PanelType, serializer: vscode.WebviewPanelSerializer): vscode.Disposable {
    this.serializers.set(viewType, serializer);
    return new vscode.Disposable(() => {
      if (this.serializers.get(viewType) === serializer) this.serializers.delete(viewType);
    });
  }

  dispose(): void {
    for (const d of this.placeholders) d.dispose();
    for (const d of this.lmForwarders.values()) d.dispose();
    this.placeholders.length = 0;
    this.handlers.clear();
    this.views.clear();
    this.serializers.clear();
    this.lmProviders.clear();
    this.lmForwarders.clear();
    this.participants.clear();
  }

  private lmProviderFor(vendor: string): LanguageModelProviderImpl {
    if (!this.lmProviders.has(vendor)) this.load();
    const provider = this.lmProviders.get(vendor);
    if (!provider) throw new HostUnavailableError('MAOF could not start its language models — run "Developer: Reload Window"; the MAOF output channel says what went wrong.');
    return provider;
  }

  private participantFor(id: string): vscode.ChatRequestHandler {
    if (!this.participants.has(id)) this.load();
    const handler = this.participants.get(id);
    if (!handler) throw new HostUnavailableError('MAOF could not start @maof — run "Developer: Reload Window"; the MAOF output channel says what went wrong.');
    return handler;
  }

  private handlerFor(id: CommandId): CommandHandler {
    if (!this.handlers.has(id)) this.load();
    const handler = this.handlers.get(id);
    if (!handler) throw new HostUnavailableError(`MAOF could not start the part of the extension that runs "${id}" — run "Developer: Reload Window"; the MAOF output channel says what went wrong.`);
    return handler;
  }

  /** A restored panel whose host never loaded is closed rather than left blank. */
  private serializerFor(type: PanelType, panel: vscode.WebviewPanel): vscode.WebviewPanelSerializer {
    if (!this.serializers.has(type)) {
      try {
        this.load();
      } catch {
        // reported by load()
      }
    }
    const serializer = this.serializers.get(type);
    if (serializer) return serializer;
    panel.dispose();
    throw new HostUnavailableError('MAOF could not start to restore its dashboard — run "Developer: Reload Window"; the MAOF output channel says what went wrong.');
  }

  private providerFor(id: ViewId): vscode.WebviewViewProvider {
    if (!this.views.has(id)) this.load();
    const provider = this.views.get(id);
    if (!provider) throw new HostUnavailableError('MAOF could not start its chat view — run "Developer: Reload Window"; the MAOF output channel says what went wrong.');
    return provider;
  }
}
