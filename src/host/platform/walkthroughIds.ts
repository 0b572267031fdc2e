// The names the Getting Started walkthrough shares between the manifest (written by
// scripts/manifestContributes.ts) and the extension, which sets the context keys its steps wait for.

export const WALKTHROUGH_ID = 'gettingStarted';

export type WalkthroughStep = 'connect' | 'generate' | 'chat' | 'dashboard' | 'nativeChat';

export const WALKTHROUGH_CONTEXT = {
  /** True while at least one agent can be asked: a key is set, or an agent needs none. */
  agentReady: 'maof.agentReady',
  /** True once the chat has answered in this window. */
  chatAnswered: 'maof.chatAnswered',
} as const;
