// Size limits of the webview <-> host protocol. Kept apart from protocol.ts (which holds the zod
// schemas) so the webviews can check a draft before sending without bundling zod.

/** Longest prompt the chat sends (characters). */
export const MAX_PROMPT_CHARS = 200_000;
/** Longest code block that Copy / Insert / Apply carry (characters, ~2 MB). */
export const MAX_CODE_CHARS = 2 * 1024 * 1024;
/** Longest id (session, message, agent). */
export const MAX_ID_CHARS = 200;
/** Longest fenced-code language tag. */
export const MAX_LANGUAGE_CHARS = 64;
