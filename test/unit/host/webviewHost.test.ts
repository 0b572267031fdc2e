// The webview host base both MAOF webviews stand on: nothing reaches a page before it says ready and
// the view's state is the first thing it gets; a malformed message is dropped and logged once,
// without what it carried; a disposed view posts nothing and leaves no listener or timer behind.
import * as assert from 'node:assert/strict';
import type { Logger } from '../../../src/core/ports';
import { WebviewHost, type Event, type WebviewSurface } from '../../../src/host/webviews/webviewHost';
import { cappedString, msg, parseMessage, type Empty, type MessagesOf } from '../../../src/shared/protocolCommon';

// ---- a small protocol and a fake page -------------------------------------------------------------

interface PageToHost {
  'test/ready': Empty;
  'test/say': { text: string };
  'test/fail': Empty;
}
type In = MessagesOf<PageToHost>;
type Out = { type: 'test/state'; n: number } | { type: 'test/line'; text: string };

const schemas = {
  'test/ready': msg('test/ready', {}),
  'test/say': msg('test/say', { text: cappedString('text', 100) }),
  'test/fail': msg('test/fail', {}),
};
const parse = (raw: unknown) => parseMessage<In>(schemas, raw);

class Emitter<T> {
  readonly listeners = new Set<(e: T) => unknown>();
  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
}

/** A page as VS Code shows it: what it was sent, and the events it raises. */
class FakePage implements WebviewSurface {
  readonly sent: Out[] = [];
  visible = true;
  readonly received = new Emitter<unknown>();
  readonly disposed = new Emitter<void>();
  readonly visibility = new Emitter<void>();
  readonly webview = {
    postMessage: (message: unknown): PromiseLike<boolean> => {
      this.sent.push(message as Out);
      return Promise.resolve(true);
    },
    onDidReceiveMessage: this.received.event,
  };
  readonly onDidDispose = this.disposed.event;
  readonly onDidChangeVisibility = this.visibility.event;

  listenerCount(): number {
    return this.received.listeners.size + this.disposed.listeners.size + this.visibility.listeners.size;
  }
}

class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  trace(): void {}
  debug(): void {}
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string | Error): void {
    this.lines.push(`error ${String(message)}`);
  }
}

/** A view with no feature but the state it answers ready with, and what it heard. */
class TestView extends WebviewHost<Out, In> {
  state = 0;
  readonly heard: In[] = [];
  readonly malformed: Array<string | undefined> = [];
  readonly failed: string[] = [];

  constructor(logger: Logger) {
    super({ name: 'Test', readyType: 'test/ready', parse, logger });
  }

  show(page: FakePage): void {
    this.attach(page);
  }

  say(text: string): void {
    this.post({ type: 'test/line', text });
  }

  tick(ms: number, fn: () => void): void {
    this.everyWhileAttached(ms, fn);
  }

  soon(fn: () => void): void {
    this.later(0, fn);
  }

  protected override onReady(): Promise<void> {
    // Composed asynchronously, as the chat's state is (it reads the keys).
    return Promise.resolve().then(() => this.post({ type: 'test/state', n: this.state }));
  }

  protected override onMessage(message: In): void {
    if (message.type === 'test/fail') throw new Error('the handler broke');
    this.heard.push(message);
  }

  protected override onMalformed(_error: string, type: In['type'] | undefined): void {
    this.malformed.push(type);
  }

  protected override onFailed(message: In): void {
    this.failed.push(message.type);
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('webview host base', () => {
  let logger: RecordingLogger;
  let view: TestView;
  let page: FakePage;

  beforeEach(() => {
    logger = new RecordingLogger();
    view = new TestView(logger);
    page = new FakePage();
  });
  afterEach(() => view.dispose());

  describe('the ready handshake', () => {
    it('sends nothing before the page says ready, then the state first and every later message in order', async () => {
      const announced: Out[] = [];
      view.onDidPostMessage((m) => announced.push(m));
      view.show(page);
      view.say('before ready');
      assert.deepEqual(page.sent, [], 'a page that has not said ready is sent nothing');
      assert.equal(view.ready, false);

      view.state = 7;
      let readyResolved = false;
      const waiting = view.whenReady().then(() => (readyResolved = true));
      page.received.fire({ type: 'test/ready' });
      await waiting;
      assert.equal(readyResolved, true);
      assert.deepEqual(page.sent, [{ type: 'test/state', n: 7 }], 'whenReady resolves once the state was sent');
      view.say('one');
      view.say('two');
      assert.deepEqual(page.sent, [{ type: 'test/state', n: 7 }, { type: 'test/line', text: 'one' }, { type: 'test/line', text: 'two' }]);
      // Listeners of onDidPostMessage see every message, sent or not.
      assert.deepEqual(announced.map((m) => m.type), ['test/line', 'test/state', 'test/line', 'test/line']);
    });

    it('a hidden page is sent nothing until it has reloaded and said ready again, and then gets the state anew', async () => {
      view.show(page);
      await view.receive({ type: 'test/ready' });
      page.visible = false;
      page.visibility.fire();
      assert.equal(view.ready, false);
      view.state = 2;
      view.say('while hidden');
      assert.deepEqual(page.sent, [{ type: 'test/state', n: 0 }]);
      page.visible = true;
      page.visibility.fire();
      view.say('shown, still loading');
      await view.receive({ type: 'test/ready' });
      view.say('after');
      assert.deepEqual(page.sent, [{ type: 'test/state', n: 0 }, { type: 'test/state', n: 2 }, { type: 'test/line', text: 'after' }]);
    });

    it('a page closed by the user is dropped with its listeners; a new one starts unready', async () => {
      view.show(page);
      await view.receive({ type: 'test/ready' });
      page.disposed.fire();
      assert.equal(page.listenerCount(), 0, 'no listener is left on the closed page');
      assert.equal(view.ready, false);
      const next = new FakePage();
      view.show(next);
      view.say('to the new page, before ready');
      assert.deepEqual(next.sent, []);
      next.received.fire({ type: 'test/say', text: 'hello' });
      await settle();
      assert.deepEqual(view.heard, [{ type: 'test/say', text: 'hello' }], 'the new page is listened to');
    });
  });

  describe('incoming messages', () => {
    it('hands a well-formed message to the view, parsed to its protocol (unknown fields dropped)', async () => {
      view.show(page);
      await view.receive({ type: 'test/say', text: 'hi', extra: { admin: true } });
      assert.deepEqual(view.heard, [{ type: 'test/say', text: 'hi' }]);
      assert.deepEqual(logger.lines, []);
    });

    it('drops a malformed message and logs it once, with the reason and without what it carried', async () => {
      view.show(page);
      const secret = 'sk-proj-' + 'A'.repeat(200);
      await view.receive({ type: 'test/say', text: secret });
      await view.receive({ type: 'test/say', text: 42 });
      await view.receive({ type: 'chat/send', prompt: 'another view\'s message' });
      await view.receive('not even an object');
      assert.deepEqual(view.heard, [], 'nothing reached the view');
      assert.deepEqual(view.malformed, ['test/say', 'test/say', undefined, undefined], 'the view may answer a known type');
      assert.equal(logger.lines.length, 4, `one line per message: ${JSON.stringify(logger.lines)}`);
      assert.match(logger.lines[0], /^warn Test: dropped a malformed message from the webview — test\/say: text is too long \(208 characters; at most 100\)$/);
      assert.match(logger.lines[1], /text must be a string \(got number\)/);
      assert.match(logger.lines[2], /unknown message type "chat\/send"/);
      assert.ok(logger.lines.every((l) => !l.includes('AAAA') && !l.includes('another view')), 'the log does not echo the payload');
    });

    it('logs a handler that throws once and lets the view answer it', async () => {
      view.show(page);
      await view.receive({ type: 'test/fail' });
      assert.deepEqual(logger.lines, ['error Test: handling test/fail failed']);
      assert.deepEqual(view.failed, ['test/fail']);
    });
  });

  describe('disposal', () => {
    it('a disposed view posts nothing, tells no listener, and leaves no listener on the page', async () => {
      const announced: Out[] = [];
      view.onDidPostMessage((m) => announced.push(m));
      view.show(page);
      await view.receive({ type: 'test/ready' });
      const sentBefore = page.sent.length;
      view.dispose();
      view.onDidPostMessage((m) => announced.push(m));
      view.say('after dispose');
      await view.receive({ type: 'test/ready' });
      assert.equal(page.sent.length, sentBefore, 'nothing sent after dispose');
      assert.ok(!announced.some((m) => m.type === 'test/line'), 'no listener told');
      assert.equal(page.listenerCount(), 0);
      assert.equal(view.ready, false);
    });

    it('stops the timers it owns: a surface interval ends with the surface, a pending timer with the view', async () => {
      let ticks = 0;
      view.show(page);
      view.tick(1, () => ticks++);
      page.disposed.fire();
      let fired = 0;
      view.soon(() => fired++);
      view.dispose();
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(ticks, 0, 'the interval ended when its page closed');
      assert.equal(fired, 0, 'the pending timer was cleared with the view');
    });

    it('an interval of a page still shown runs (the check above can fail)', async () => {
      let ticks = 0;
      view.show(page);
      view.tick(1, () => ticks++);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(ticks > 0);
    });
  });
});
