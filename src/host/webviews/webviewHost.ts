// What MAOF's two webviews (the chat view, the dashboard panel) share, after GitLens' webview
// controller: the ready handshake, parsing and logging what the page posts, posting to the page,
// and owning every listener and timer a view needs. A view subclasses it and keeps only its feature.
// No vscode import: the surface is described by its shape, so the base is unit-tested in plain Node.
import type { Logger } from '../../core/ports';
import type { ParsedMessage, TypedMessage } from '../../shared/protocolCommon';

export interface Disposable {
  dispose(): unknown;
}

/** vscode.Event's shape (an Event<T> of VS Code fits). */
export type Event<T> = (listener: (e: T) => unknown) => Disposable;

/**
 * What the base needs of a webview view or panel. A vscode.WebviewView fits as it is; a panel
 * through `panelSurface` (its visibility event has another name).
 */
export interface WebviewSurface {
  readonly webview: {
    postMessage(message: unknown): PromiseLike<boolean>;
    readonly onDidReceiveMessage: Event<unknown>;
  };
  readonly visible: boolean;
  readonly onDidDispose: Event<void>;
  /** Fires when `visible` may have changed. */
  readonly onDidChangeVisibility: Event<unknown>;
}

/** A vscode.WebviewPanel as a surface. */
export function panelSurface(panel: Omit<WebviewSurface, 'onDidChangeVisibility'> & { readonly onDidChangeViewState: Event<unknown> }): WebviewSurface {
  return {
    webview: panel.webview,
    get visible() {
      return panel.visible;
    },
    onDidDispose: panel.onDidDispose,
    onDidChangeVisibility: panel.onDidChangeViewState,
  };
}

export interface WebviewHostOptions<In extends TypedMessage> {
  /** How log lines name the view ("Chat", "Dashboard"). */
  name: string;
  /** The message the page posts once its script listens. */
  readyType: In['type'];
  /** The view's own protocol parser (chatProtocol.ts, dashboardProtocol.ts). */
  parse(raw: unknown): ParsedMessage<In>;
  logger: Logger;
}

/**
 * The handshake: until the page says it is ready, nothing is sent to it — a page that has not loaded
 * its script, or that VS Code tore down while hidden (retainContextWhenHidden is off, so a hidden
 * page is reloaded when shown and says ready anew), would lose it. When it says ready, the view's
 * `onReady` posts its whole current state, which stands for everything posted before. Listeners of
 * `onDidPostMessage` (the tests, the benchmark) see every message, sent or not.
 */
export abstract class WebviewHost<Out extends TypedMessage, In extends TypedMessage> implements Disposable {
  private surface: WebviewSurface | undefined;
  /** Listeners and timers that live as long as the current surface. */
  private surfaceScope: Disposable[] = [];
  /** Listeners that live as long as the view. */
  private readonly owned: Disposable[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly postListeners = new Set<(message: Out) => unknown>();
  private isReady = false;
  private readyWaiters: Array<() => void> = [];
  private disposed = false;
  protected readonly logger: Logger;

  protected constructor(private readonly options: WebviewHostOptions<In>) {
    this.logger = options.logger;
  }

  /** Every message the view posts, as it is posted (before the page is ready too). */
  readonly onDidPostMessage: Event<Out> = (listener) => {
    this.postListeners.add(listener);
    return { dispose: () => this.postListeners.delete(listener) };
  };

  /** A page is shown and its script said it is ready. */
  get ready(): boolean {
    return this.isReady && this.surface !== undefined;
  }

  /** Resolves once the page has said it is ready and the view has answered with its state. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Handles `raw` as the page posted it: parsed with the view's protocol; a malformed message is
   * logged once with the parser's reason (fields, kinds and lengths, never a prompt or code) and
   * dropped; a handler that throws is logged once. Resolves when the message was handled.
   */
  async receive(raw: unknown): Promise<void> {
    if (this.disposed) return;
    const parsed = this.options.parse(raw);
    if (!parsed.ok) {
      this.logger.warn(`${this.options.name}: dropped a malformed message from the webview — ${parsed.error}`);
      this.onMalformed(parsed.error, parsed.type);
      return;
    }
    const message = parsed.message;
    try {
      if (message.type === this.options.readyType) {
        this.isReady = true;
        await this.onReady();
        for (const resolve of this.readyWaiters.splice(0)) resolve();
      } else {
        await this.onMessage(message);
      }
    } catch (err) {
      this.logger.error(`${this.options.name}: handling ${message.type} failed`, err);
      this.onFailed(message, err);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.detach();
    for (const d of this.owned.splice(0)) d.dispose();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.postListeners.clear();
  }

  // ---- for the views ------------------------------------------------------------------------------

  /** The page answers only once ready: post the view's whole state. */
  protected abstract onReady(): void | Promise<void>;

  /** Any other well-formed message from the page. */
  protected abstract onMessage(message: In): void | Promise<void>;

  /** After a malformed message was logged and dropped (the chat answers a bad send with an error bubble). */
  protected onMalformed(_error: string, _type: In['type'] | undefined): void {
    // Logged already; nothing else by default.
  }

  /** After handling `message` threw and was logged. */
  protected onFailed(_message: In, _err: unknown): void {
    // Logged already; nothing else by default.
  }

  /** The surface went away (closed by the user, replaced, or the view disposed). */
  protected onDetached(): void {
    // Nothing by default.
  }

  /** Shows the view in `surface` (a new page is loading: not ready until it says so). */
  protected attach(surface: WebviewSurface): void {
    this.detach();
    if (this.disposed) return;
    this.surface = surface;
    this.isReady = false;
    this.surfaceScope.push(
      surface.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      surface.onDidDispose(() => {
        if (this.surface === surface) this.detach();
      }),
      surface.onDidChangeVisibility(() => {
        // Hidden without retained context: the page reloads when shown and says ready again.
        if (!surface.visible) this.isReady = false;
      }),
    );
  }

  /** Drops the surface and everything scoped to it; the view lives on. */
  protected detach(): void {
    const had = this.surface !== undefined;
    for (const d of this.surfaceScope.splice(0)) d.dispose();
    this.surface = undefined;
    this.isReady = false;
    if (had) this.onDetached();
  }

  protected get attached(): boolean {
    return this.surface !== undefined;
  }

  /** Posts to the page once it is ready (see the class comment); tells onDidPostMessage's listeners always. */
  protected post(message: Out): void {
    if (this.disposed) return;
    for (const listener of [...this.postListeners]) {
      try {
        listener(message);
      } catch (err) {
        this.logger.debug(`${this.options.name}: a listener of posted messages failed`, err);
      }
    }
    if (!this.ready || !this.surface) return;
    this.surface.webview.postMessage(message).then(undefined, (err: unknown) => this.logger.debug(`${this.options.name}: postMessage failed`, err));
  }

  /** Disposed with the view. */
  protected own<D extends Disposable>(disposable: D): D {
    if (this.disposed) disposable.dispose();
    else this.owned.push(disposable);
    return disposable;
  }

  /** Runs `fn` every `ms` while the current surface is shown; stopped when it goes or the view is disposed. */
  protected everyWhileAttached(ms: number, fn: () => void): void {
    if (!this.surface) return;
    const interval = setInterval(fn, ms);
    this.surfaceScope.push({ dispose: () => clearInterval(interval) });
  }

  /** Runs `fn` once after `ms` unless cancelled (the returned function) or the view is disposed first. */
  protected later(ms: number, fn: () => void): () => void {
    if (this.disposed) return () => undefined;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }
}
