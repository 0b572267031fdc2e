// The StateStore port over a VS Code Memento (workspaceState), so that what the host keeps there
// goes through a PersistedSlot like the ledger and the breakers.
import type * as vscode from 'vscode';
import type { StateStore } from '../../core/ports';

export function mementoStateStore(memento: vscode.Memento): StateStore {
  return {
    get: (key) => memento.get<unknown>(key),
    update: (key, value) => Promise.resolve(memento.update(key, value)),
  };
}
