// The webview side of the VS Code bridge, typed with the page's own protocol (chatProtocol.ts or
// dashboardProtocol.ts): what the page may post, and the per-webview state VS Code keeps while the
// page is hidden or reloaded.
import type { TypedMessage } from '../shared/protocolCommon';

export interface VsCodeApi<State, Outgoing extends TypedMessage> {
  postMessage(message: Outgoing): void;
  getState(): State | undefined;
  setState(state: State): State;
}

declare function acquireVsCodeApi<State, Outgoing extends TypedMessage>(): VsCodeApi<State, Outgoing>;

/** May be called once per page: keep the result. */
export function vscodeApi<State, Outgoing extends TypedMessage>(): VsCodeApi<State, Outgoing> {
  return acquireVsCodeApi<State, Outgoing>();
}

/** Messages from the host (typed as the page's protocol says); anything without a string `type` is ignored. */
export function onHostMessage<Incoming extends TypedMessage>(handler: (message: Incoming) => void): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const data = event.data;
    if (typeof data !== 'object' || data === null || typeof (data as { type?: unknown }).type !== 'string') return;
    handler(data as Incoming);
  });
}

/** `document.createElement` with a class, text and attributes in one call. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}
