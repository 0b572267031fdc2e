// One signal that VS Code's Chat used MAOF — a MAOF model was asked through the Language Model API,
// or `@maof` answered — so that the offers that only make sense then (utility models) come at that
// moment. The emitter lives as long as the extension host; each listener is disposed by its owner.
import * as vscode from 'vscode';

export interface ChatUse {
  /** The ledger source of the request (requestSource.ts). */
  source: string;
  /** The MAOF model asked (`auto`, a task, `agent:<id>`), or undefined for `@maof`. */
  modelId?: string;
  /** Who sent it, as VS Code says (`options.requestInitiator`): an extension id or "core". */
  initiator?: string;
}

const used = new vscode.EventEmitter<ChatUse>();

export const onDidUseChat: vscode.Event<ChatUse> = used.event;

export function reportChatUse(use: ChatUse): void {
  used.fire(use);
}
