// Every command, view and contribution id MAOF puts in its manifest, in one place: the manifest
// generator (scripts/manifestContributes.ts) writes package.json from these, and the code registers
// and runs them by these names, so a typo is a compile error. No imports: the entry point and the
// generator both load it.

/** The palette commands (`contributes.commands`), by handler name. */
export const COMMANDS = {
  generateCode: 'maof.generateCode',
  write: 'maof.write',
  writeDocComment: 'maof.writeDocComment',
  writeCommitMessage: 'maof.writeCommitMessage',
  analyseSelection: 'maof.analyseSelection',
  analyseFile: 'maof.analyseFile',
  askAgent: 'maof.askAgent',
  compareAgents: 'maof.compareAgents',
  runChain: 'maof.runChain',
  openChat: 'maof.openChat',
  showDashboard: 'maof.showDashboard',
  showLastRequests: 'maof.showLastRequests',
  setApiKey: 'maof.setApiKey',
  clearApiKey: 'maof.clearApiKey',
  resetBreakers: 'maof.resetBreakers',
  diagnose: 'maof.diagnose',
  exportUsage: 'maof.exportUsage',
  resetSpendHistory: 'maof.resetSpendHistory',
  useForUtilityModels: 'maof.useForUtilityModels',
  stopUsingForUtilityModels: 'maof.stopUsingForUtilityModels',
  allowAnonymousChat: 'maof.allowAnonymousChat',
  acceptInline: 'maof.acceptInline',
  rejectInline: 'maof.rejectInline',
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandName];

/** The activity-bar container the chat view lives in (`contributes.viewsContainers`). */
export const VIEW_CONTAINER_ID = 'maof';

/** Webview views (`contributes.views`); VS Code adds `<id>.focus` as a command for each. */
export const VIEWS = {
  chat: 'maof.chatView',
} as const;

export type ViewId = (typeof VIEWS)[keyof typeof VIEWS];

/** Webview panel types; VS Code restores an open one after a reload through its serializer (`onWebviewPanel:<type>`). */
export const PANELS = {
  dashboard: 'maof.dashboard',
} as const;

export type PanelType = (typeof PANELS)[keyof typeof PANELS];

/** MAOF as a model provider for VS Code's Chat (`contributes.languageModelChatProviders`). */
export const LANGUAGE_MODEL_VENDOR = 'maof';

/** `@maof` in VS Code's Chat (`contributes.chatParticipants`). */
export const PARTICIPANT_ID = 'maof.maof';

export const ALL_COMMAND_IDS: readonly CommandId[] = Object.values(COMMANDS);
