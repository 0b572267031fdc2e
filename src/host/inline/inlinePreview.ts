// The inline diff for generated code: the proposal is applied as ONE edit, highlighted as inserted
// text, with "Accept | Reject" CodeLenses above it. Accept keeps the edit (one undo step); Reject
// puts the original text back exactly, unless the user already undid it. The proposal's range is
// tracked through every other edit of the document so both stay correct.
import * as vscode from 'vscode';
import type { Logger } from '../../core/ports';
import { shiftRange } from './inlineText';
import { COMMANDS } from '../platform/ids';

export const PENDING_CONTEXT_KEY = 'maof.inlinePending';

export interface ProposalMeta {
  agentId: string;
  costUsd: number;
  attempts: number;
  /** What the proposal replaces, for the hover ("" for an insertion). */
  languageId: string;
}

interface Session {
  uri: string;
  start: number;
  end: number;
  original: string;
  proposed: string;
  /** The user edited inside the proposal after it was shown. */
  touched: boolean;
  meta: ProposalMeta;
}

/** Read-only view of the pending proposal for the extension API and tests. */
export interface PendingProposal {
  uri: string;
  start: number;
  end: number;
  original: string;
  proposed: string;
  agentId: string;
}

export type ProposeResult = { ok: true } | { ok: false; reason: string };

export class InlinePreview implements vscode.Disposable, vscode.CodeLensProvider {
  private session: Session | undefined;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly changed = new vscode.EventEmitter<PendingProposal | undefined>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  /** Fires when a proposal appears, moves, is accepted or rejected. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly logger: Logger) {
    this.disposables.push(
      this.decoration,
      this.lensesChanged,
      this.changed,
      vscode.languages.registerCodeLensProvider(['file', 'untitled', 'vscode-remote', 'vscode-vfs'].map((scheme) => ({ scheme })), this),
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocumentChanged(e)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (this.session && doc.uri.toString() === this.session.uri) this.end('document closed');
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContextKey()),
    );
  }

  get pending(): PendingProposal | undefined {
    const s = this.session;
    return s ? { uri: s.uri, start: s.start, end: s.end, original: s.original, proposed: s.proposed, agentId: s.meta.agentId } : undefined;
  }

  /** Applies `proposed` over `range` as one edit and starts the accept/reject session. */
  async propose(document: vscode.TextDocument, range: vscode.Range, proposed: string, meta: ProposalMeta): Promise<ProposeResult> {
    if (this.session) return { ok: false, reason: 'Another MAOF change is waiting for Accept or Reject.' };
    // VS Code would convert line ends on insert, and the range check below would then fail.
    proposed = proposed.replace(/\r?\n/g, document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n');
    const original = document.getText(range);
    const start = document.offsetAt(range.start);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, range, proposed);
    const versionBefore = document.version;
    if (!(await vscode.workspace.applyEdit(edit))) return { ok: false, reason: 'VS Code did not apply the change (is the file read-only?).' };
    const end = start + proposed.length;
    // The edit must have landed exactly as sent; if not (e.g. a formatter ran), undo what we can.
    const landed = document.getText(new vscode.Range(document.positionAt(start), document.positionAt(end)));
    if (landed !== proposed) {
      this.logger.warn(`Inline proposal landed differently (version ${versionBefore} → ${document.version}); it was kept without preview.`);
      return { ok: false, reason: 'The change was applied but could not be previewed; use Undo to revert it.' };
    }
    this.session = { uri: document.uri.toString(), start, end, original, proposed, touched: false, meta };
    // A selection left over the proposal would hide its highlight: put the cursor after it.
    const after = document.positionAt(end);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === document && !editor.selection.isEmpty) editor.selection = new vscode.Selection(after, after);
    }
    this.render();
    return { ok: true };
  }

  accept(): Promise<boolean> {
    if (!this.session) return Promise.resolve(false);
    this.end('accepted');
    return Promise.resolve(true);
  }

  async reject(): Promise<boolean> {
    const s = this.session;
    if (!s) return false;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === s.uri);
    if (!doc) {
      this.end('document gone');
      return false;
    }
    const range = new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end));
    const current = doc.getText(range);
    if (current === s.original) {
      // Already undone by the user: reverting again would delete their text.
      this.end('already reverted');
      return true;
    }
    if (current !== s.proposed) {
      const choice = await vscode.window.showWarningMessage('The proposed code was edited since it was inserted. Revert it to the original anyway?', { modal: true }, 'Revert');
      if (choice !== 'Revert') return false;
      if (this.session !== s) return false;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)), s.original);
    this.end('rejected');
    const ok = await vscode.workspace.applyEdit(edit);
    if (!ok) void vscode.window.showWarningMessage('MAOF: could not revert the proposed change — use Undo to remove it.');
    return ok;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const s = this.session;
    if (!s || document.uri.toString() !== s.uri) return [];
    const at = new vscode.Range(document.positionAt(s.start), document.positionAt(s.start));
    const cost = s.meta.costUsd > 0 ? ` · $${s.meta.costUsd < 0.01 ? s.meta.costUsd.toFixed(4) : s.meta.costUsd.toFixed(2)}` : '';
    return [
      new vscode.CodeLens(at, { title: '✓ Accept (Alt+Enter)', command: COMMANDS.acceptInline, tooltip: 'Keep the generated code' }),
      new vscode.CodeLens(at, { title: '✗ Reject (Esc)', command: COMMANDS.rejectInline, tooltip: 'Restore the original text' }),
      new vscode.CodeLens(at, { title: `MAOF · ${s.meta.agentId}${cost}${s.meta.attempts > 1 ? ` · ${s.meta.attempts} attempts` : ''}`, command: '' }),
    ];
  }

  dispose(): void {
    // A pending proposal stays in the document as ordinary text: reloading must not lose work.
    this.session = undefined;
    void vscode.commands.executeCommand('setContext', PENDING_CONTEXT_KEY, false);
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private onDocumentChanged(e: vscode.TextDocumentChangeEvent): void {
    const s = this.session;
    if (!s || e.document.uri.toString() !== s.uri || e.contentChanges.length === 0) return;
    let range = { start: s.start, end: s.end };
    for (const change of e.contentChanges) {
      const next = shiftRange(range, change);
      if (next.touched) s.touched = true;
      range = { start: next.start, end: next.end };
    }
    s.start = range.start;
    s.end = range.end;
    if (s.touched) {
      const text = e.document.getText(new vscode.Range(e.document.positionAt(s.start), e.document.positionAt(s.end)));
      if (text === s.original) {
        // Undo (or deleting the proposal by hand) already restored the original: nothing pending.
        this.end(e.reason === vscode.TextDocumentChangeReason.Undo ? 'undone' : 'removed by hand');
        return;
      }
    }
    this.render();
  }

  private end(why: string): void {
    if (!this.session) return;
    this.logger.debug(`Inline proposal ended: ${why}.`);
    this.session = undefined;
    this.render();
  }

  private render(): void {
    const s = this.session;
    for (const editor of vscode.window.visibleTextEditors) {
      if (s && editor.document.uri.toString() === s.uri) {
        const doc = editor.document;
        const range = new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end));
        const hover = new vscode.MarkdownString(s.original ? `**MAOF proposal** by ${s.meta.agentId}, replacing:\n\n` : `**MAOF proposal** by ${s.meta.agentId}`);
        if (s.original) hover.appendCodeblock(s.original.length > 4000 ? `${s.original.slice(0, 4000)}\n…` : s.original, s.meta.languageId);
        editor.setDecorations(this.decoration, [{ range, hoverMessage: hover }]);
      } else {
        editor.setDecorations(this.decoration, []);
      }
    }
    this.lensesChanged.fire();
    this.changed.fire(this.pending);
    this.updateContextKey();
  }

  private updateContextKey(): void {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    void vscode.commands.executeCommand('setContext', PENDING_CONTEXT_KEY, Boolean(this.session && active === this.session.uri));
  }
}
