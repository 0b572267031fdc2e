// The `fetch` both SDK clients are given: the request over node:http(s) with keep-alive agents,
// the answer as a small Response the SDKs read (status, headers, json/text, and the body as a
// Node stream for server-sent events).
//
// Why not the global fetch: Node's fetch (undici) builds WHATWG Request/Response/Headers objects
// and web streams for every call; at `maof batch` rates that was about a third of the client's CPU
// per request, more than all of MAOF's own pipeline. node:http also goes through the proxy support
// VS Code installs for extensions, which the global fetch does not.
//
// Anything this does not handle the way fetch would (a Request object, a streamed or form body)
// goes to the global fetch unchanged. Redirects are followed as fetch follows them, but a key never
// goes on to another origin.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';

type FetchInput = string | URL | Request;

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** The response headers Node parsed (names in lower case), read the way the SDKs read Headers. */
export class ResponseHeaders implements Iterable<[string, string]> {
  constructor(private readonly raw: http.IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this) fn(value, name);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** What the SDKs use of a fetch Response. */
export class TransportResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: ResponseHeaders;
  readonly type = 'basic';
  bodyUsed = false;

  constructor(
    readonly url: string,
    res: http.IncomingMessage,
    private readonly stream: Readable,
    readonly redirected: boolean,
  ) {
    this.status = res.statusCode ?? 0;
    this.statusText = res.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new ResponseHeaders(res.headers);
  }

  /** The body as a Node stream: async-iterable Uint8Array chunks, which is all the SDKs' SSE readers need. */
  get body(): Readable | null {
    return this.status === 204 || this.status === 304 ? null : this.stream;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = await this.buffer();
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  private async buffer(): Promise<Buffer> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.bodyUsed = true;
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream) chunks.push(chunk as Buffer);
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

/** Request headers as Node wants them, from whatever HeadersInit the SDK built (a Headers, usually). */
function plainHeaders(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name] = value;
    });
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers) out[name.toLowerCase()] = value;
  } else {
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = String(value);
  }
  return out;
}

function decoded(res: http.IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'br' ? zlib.createBrotliDecompress() : encoding === 'deflate' ? zlib.createInflate() : undefined;
  if (!decoder) return res;
  res.on('error', (err) => decoder.destroy(err));
  return res.pipe(decoder);
}

/** Redirects followed before giving up, as fetch does. */
const MAX_REDIRECTS = 20;
/** Headers that carry a credential: never sent on to another origin by a redirect. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization'];

/**
 * A fetch for the SDK clients. Rejects like fetch: a TypeError("fetch failed") whose cause is the
 * socket's error, or an AbortError when the signal aborts (which also ends a body being read).
 * Redirects are followed like fetch's "follow" (303, and 301/302 after a POST, go on as a GET
 * without a body), except that credentials never follow a redirect to another origin.
 */
export function transportFetch(input: FetchInput, init: RequestInit = {}): Promise<Response> {
  const body = init.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  if (typeof input !== 'string' && !(input instanceof URL)) return fetch(input, init);
  if (!simpleBody) return fetch(input, init);
  const url = typeof input === 'string' ? new URL(input) : input;
  if (!(url.protocol in agents)) return fetch(input, init);
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? undefined);
  return send(url, (init.method ?? 'GET').toUpperCase(), plainHeaders(init.headers), payload, init.signal ?? undefined, 0);
}

function send(url: URL, method: string, headers: Record<string, string>, payload: Uint8Array | undefined, signal: AbortSignal | undefined, redirects: number): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const agent = agents[url.protocol as keyof typeof agents] as http.Agent | undefined;
    if (!agent) return reject(new TypeError('fetch failed', { cause: new Error(`redirected to an unsupported protocol ${url.protocol}`) }));
    if (payload) headers['content-length'] = String(payload.byteLength);
    else delete headers['content-length'];
    const request = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent });
    let stream: Readable | undefined;
    const onAbort = (): void => {
      const err = abortError(signal!);
      request.destroy(err);
      stream?.destroy(err);
      reject(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    request.on('error', (err) => {
      done();
      reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
    });
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        res.resume();
        done();
        if (redirects >= MAX_REDIRECTS) return reject(new TypeError('fetch failed', { cause: new Error('redirect count exceeded') }));
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (err) {
          return reject(new TypeError('fetch failed', { cause: err }));
        }
        const nextHeaders = { ...headers };
        if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) delete nextHeaders[name];
        const asGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
        if (asGet) delete nextHeaders['content-type'];
        resolve(send(next, asGet ? 'GET' : method, nextHeaders, asGet ? undefined : payload, signal, redirects + 1));
        return;
      }
      stream = decoded(res);
      const s = stream;
      s.on('error', done);
      s.on('end', done);
      s.on('close', done);
      resolve(new TransportResponse(url.href, res, s, redirects > 0) as unknown as Response);
    });
    request.end(payload);
  });
}
