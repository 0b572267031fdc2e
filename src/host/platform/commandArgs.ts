// What commands accept besides the UI, shared by the features that take a prompt.

/** `{prompt}` lets keybindings and automation skip the input box. */
export function promptArgument(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const prompt = (args as { prompt?: unknown }).prompt;
  return typeof prompt === 'string' && prompt.trim() ? prompt : undefined;
}
