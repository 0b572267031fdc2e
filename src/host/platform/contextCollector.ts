// Gathers what the agent may see from the editor: the selection, the active file around the
// cursor, other visible editors and documents already open in tabs. Never reads an unopened file,
// never includes secret files, huge or binary-looking text; in an untrusted workspace only the
// selection leaves unless the user agrees once per session.
import * as vscode from 'vscode';
import type { ContextItem } from '../../core/context/contextPruner';
import { isSecretFile } from '../../core/context/secretRedactor';
import type { MaofConfig } from '../../core/config/schema';
import type { Logger } from '../../core/ports';

/** Document schemes whose text is the user's own content; output, git, debug… are skipped. */
const CONTENT_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs']);

export interface CollectOptions {
  includeSelection?: boolean;
}

type TrustChoice = 'all' | 'selection';

export function looksBinary(text: string): boolean {
  if (text.includes('\u0000')) return true;
  const sample = text.slice(0, 8192);
  if (sample.length === 0) return false;
  let odd = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12)) odd++;
  }
  return odd / sample.length > 0.1;
}

function displayPath(doc: vscode.TextDocument): string {
  return doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri, false);
}

function providersLabel(config: MaofConfig): string {
  const routed = new Set(Object.values(config.routes).flat());
  const names = new Set<string>();
  for (const a of config.agents) {
    if (!routed.has(a.id)) continue;
    names.add(a.baseUrl ? 'a custom endpoint' : a.provider === 'anthropic' ? 'Anthropic' : 'OpenAI');
  }
  const list = [...names];
  if (list.length === 0) return 'the configured providers';
  if (list.length === 1) return list[0];
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

export class ContextCollector {
  private trustChoice: TrustChoice | undefined;

  constructor(
    private readonly config: () => MaofConfig,
    private readonly logger: Logger,
  ) {}

  /** Whether a document may be sent at all (scheme, secret file, size, binary). */
  usable(doc: vscode.TextDocument): boolean {
    if (!CONTENT_SCHEMES.has(doc.uri.scheme)) return false;
    const ctx = this.config().context;
    const path = doc.uri.scheme === 'untitled' ? doc.uri.path : doc.uri.fsPath || doc.uri.path;
    if (isSecretFile(path, ctx.excludeFiles)) return false;
    const text = doc.getText();
    if (Buffer.byteLength(text, 'utf8') > ctx.maxFileBytes) return false;
    return !looksBinary(text);
  }

  async collect(options: CollectOptions = {}): Promise<ContextItem[]> {
    const includeSelection = options.includeSelection ?? true;
    const ctx = this.config().context;
    const items: ContextItem[] = [];
    const editor = vscode.window.activeTextEditor;
    const seen = new Set<string>();

    if (editor && includeSelection && !editor.selection.isEmpty && this.usable(editor.document)) {
      const doc = editor.document;
      const sel = editor.selection;
      items.push({
        id: `selection:${doc.uri.toString()}`,
        kind: 'selection',
        label: `${displayPath(doc)}:${sel.start.line + 1}-${sel.end.line + 1} (selection)`,
        text: doc.getText(sel),
        path: displayPath(doc),
        languageId: doc.languageId,
        version: doc.version,
      });
    }

    const files: ContextItem[] = [];
    if (editor && this.usable(editor.document)) {
      const doc = editor.document;
      seen.add(doc.uri.toString());
      files.push({
        id: `file:${doc.uri.toString()}`,
        kind: 'activeFile',
        label: displayPath(doc),
        text: doc.getText(),
        path: displayPath(doc),
        languageId: doc.languageId,
        cursorOffset: doc.offsetAt(editor.selection.active),
        version: doc.version,
      });
    }

    if (ctx.includeVisibleEditors) {
      for (const visible of vscode.window.visibleTextEditors) {
        const doc = visible.document;
        const key = doc.uri.toString();
        if (seen.has(key) || !this.usable(doc)) continue;
        seen.add(key);
        files.push({ id: `file:${key}`, kind: 'visibleEditor', label: displayPath(doc), text: doc.getText(), path: displayPath(doc), languageId: doc.languageId, cursorOffset: doc.offsetAt(visible.selection.active), version: doc.version });
      }
    }

    if (ctx.includeOpenTabs) {
      // Only documents VS Code already holds in memory: a tab whose file was never opened is not read from disk.
      const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
      for (const group of vscode.window.tabGroups.all) {
        for (const tab of group.tabs) {
          if (!(tab.input instanceof vscode.TabInputText)) continue;
          const key = tab.input.uri.toString();
          const doc = open.get(key);
          if (!doc || seen.has(key) || !this.usable(doc)) continue;
          seen.add(key);
          files.push({ id: `file:${key}`, kind: 'openTab', label: displayPath(doc), text: doc.getText(), path: displayPath(doc), languageId: doc.languageId, version: doc.version });
        }
      }
    }
    // Ask about sharing files only when there are files to share.
    if (files.length > 0 && (await this.mayShareFiles())) items.push(...files);
    return items;
  }

  /** In an untrusted workspace, asks once per session whether open files may be sent. */
  private async mayShareFiles(): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    if (this.trustChoice) return this.trustChoice === 'all';
    const choice = await vscode.window.showWarningMessage(
      `Send the contents of open files to ${providersLabel(this.config())}?`,
      { modal: true, detail: 'This workspace is not trusted. Without your consent MAOF sends only the selected text. Secret files such as .env are never sent.' },
      'Send',
      'Only Selection',
    );
    if (choice === 'Send') this.trustChoice = 'all';
    else if (choice === 'Only Selection') this.trustChoice = 'selection';
    this.logger.info(`Untrusted workspace: ${choice === 'Send' ? 'open files may be sent this session' : 'only the selection is sent'}.`);
    return choice === 'Send';
  }
}
