// Who asked a MAOF model, as the ledger's `source` (spend by source on the dashboard and in
// `maof usage --by source`). Pure: no vscode import. VS Code 1.139 passes the provider
// `options.requestInitiator` (outside the typed API): the asking extension's id, or "core" when
// the workbench itself sends the request — for a model that is not Copilot's, that is MCP sampling
// (the workbench's own other LLM calls ask Copilot's utility models by id).

/** The model VS Code's utility flows are pointed at (`chat.utilityModel`: `maof/utility`). */
export const UTILITY_MODEL_ID = 'utility';

export const REQUEST_SOURCES = {
  utility: 'VS Code utility',
  sampling: 'MCP sampling',
  languageModelApi: 'VS Code Language Model API',
  participant: 'VS Code Chat (@maof)',
} as const;

/** `options.requestInitiator` if VS Code passed one (an extension id or "core"). */
export function requestInitiatorOf(options: unknown): string | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  const initiator = (options as { requestInitiator?: unknown }).requestInitiator;
  return typeof initiator === 'string' && initiator ? initiator : undefined;
}

/**
 * A request the workbench sends itself is an MCP server's sampling request, whichever MAOF model
 * the user allowed for it (`maof/utility` too); otherwise the utility model is asked only by the
 * Chat's background work (Copilot Chat's utility flows), or by someone who picked it.
 */
export function requestSourceOf(modelId: string, requestInitiator: string | undefined): string {
  if (requestInitiator === 'core') return REQUEST_SOURCES.sampling;
  if (modelId === UTILITY_MODEL_ID) return REQUEST_SOURCES.utility;
  return REQUEST_SOURCES.languageModelApi;
}

/** The extension behind VS Code's Chat (agent mode, Ask, Edit, the title and other utility flows). */
export const CHAT_EXTENSION_ID = 'github.copilot-chat';

/** A question asked in VS Code's Chat — not its background work, nor another extension's request. */
export function isChatQuestion(use: { source: string; initiator?: string }): boolean {
  return use.source === REQUEST_SOURCES.participant || (use.source === REQUEST_SOURCES.languageModelApi && use.initiator === CHAT_EXTENSION_ID);
}

/**
 * VS Code's Chat asks for a Copilot sign-in before it lets any model answer, unless
 * `chat.allowAnonymousAccess` is on. An extension cannot see that dialog; what it can see is that
 * the setting is unset and no Copilot model is registered (Copilot registers its models only for a
 * signed-in user) while MAOF's are — then the Chat would ask.
 */
export function needsAnonymousAccess(settingSet: boolean, vendors: readonly string[]): boolean {
  return !settingSet && vendors.includes('maof') && !vendors.includes('copilot');
}
