// The fetch both SDK clients use (providers/httpTransport.ts), against a loopback server of the
// test's own: what the SDKs rely on of a fetch — status, headers, JSON, a streamed body, aborts,
// connection errors — and the keep-alive connection reuse it exists for. The SDKs over it are
// tested against the provider simulator in the adapter and reliability suites.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { APIError, OpenAI } from 'openai';
import { transportFetch } from '../../../src/core/providers/httpTransport';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function serve(handler: Handler): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('httpTransport (the SDK clients’ fetch)', () => {
  it('sends method, headers and body, and reads status, headers and JSON like fetch', async () => {
    const srv = await serve((req, res, body) => {
      res.writeHead(201, 'Created', { 'content-type': 'application/json', 'x-request-id': 'req_1', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body: JSON.parse(body) as unknown, length: req.headers['content-length'] }));
    });
    try {
      const res = await transportFetch(`${srv.url}/v1/x`, { method: 'POST', headers: new Headers({ Authorization: 'Bearer t', 'Content-Type': 'application/json' }), body: JSON.stringify({ q: 'é' }) });
      assert.equal(res.status, 201);
      assert.equal(res.ok, true);
      assert.equal(res.statusText, 'Created');
      assert.equal(res.headers.get('X-Request-Id'), 'req_1');
      assert.equal(res.headers.get('set-cookie'), 'a=1, b=2');
      assert.equal(res.headers.get('missing'), null);
      assert.ok([...res.headers.entries()].some(([k, v]) => k === 'content-type' && v === 'application/json'));
      assert.deepEqual(await res.json(), { method: 'POST', auth: 'Bearer t', body: { q: 'é' }, length: String(Buffer.byteLength('{"q":"é"}')) });
      await assert.rejects(res.text(), /already been read/);
    } finally {
      await srv.close();
    }
  });

  it('reuses one keep-alive connection for requests one after another', async () => {
    const srv = await serve((_req, res) => res.end('ok'));
    try {
      for (let i = 0; i < 5; i++) assert.equal(await (await transportFetch(`${srv.url}/`)).text(), 'ok');
      assert.equal(srv.connections(), 1);
    } finally {
      await srv.close();
    }
  });

  it('decodes a gzip-encoded answer', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(JSON.stringify({ hello: 'world' })));
    });
    try {
      assert.deepEqual(await (await transportFetch(`${srv.url}/`)).json(), { hello: 'world' });
    } finally {
      await srv.close();
    }
  });

  it('streams the body in chunks as they arrive, and an abort ends the stream with an AbortError', async () => {
    let release = (): void => undefined;
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      release = () => res.write('data: two\n\n');
    });
    try {
      const controller = new AbortController();
      const res = await transportFetch(`${srv.url}/`, { signal: controller.signal });
      const body = res.body as unknown as AsyncIterable<Uint8Array>;
      const iterator = body[Symbol.asyncIterator]();
      assert.equal(Buffer.from((await iterator.next()).value as Uint8Array).toString(), 'data: one\n\n');
      release();
      assert.equal(Buffer.from((await iterator.next()).value as Uint8Array).toString(), 'data: two\n\n');
      controller.abort();
      await assert.rejects(iterator.next(), (err: Error) => err.name === 'AbortError');
    } finally {
      await srv.close();
    }
  });

  it('rejects with an AbortError when aborted before the answer, or already aborted', async () => {
    const srv = await serve(() => undefined); // never answers
    try {
      const controller = new AbortController();
      const pending = transportFetch(`${srv.url}/`, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, (err: Error) => err.name === 'AbortError');
      await assert.rejects(transportFetch(`${srv.url}/`, { signal: AbortSignal.abort() }), (err: Error) => err.name === 'AbortError');
    } finally {
      await srv.close();
    }
  });

  it('rejects a refused connection like fetch: TypeError "fetch failed" caused by ECONNREFUSED', async () => {
    const srv = await serve((_req, res) => res.end());
    const url = srv.url;
    await srv.close();
    await assert.rejects(transportFetch(`${url}/`), (err: Error & { cause?: { code?: string } }) => err instanceof TypeError && err.message === 'fetch failed' && err.cause?.code === 'ECONNREFUSED');
  });

  it('follows redirects like fetch, keeping a POST on 307 and turning it into a GET on 303', async () => {
    const srv = await serve((req, res, body) => {
      if (req.url === '/old') return void res.writeHead(307, { location: '/new' }).end();
      if (req.url === '/see-other') return void res.writeHead(303, { location: '/new' }).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, method: req.method, body, auth: req.headers.authorization ?? null }));
    });
    try {
      const init = { method: 'POST', headers: { Authorization: 'Bearer same-origin', 'content-type': 'application/json' }, body: '{"a":1}' };
      const kept = await transportFetch(`${srv.url}/old`, init);
      assert.deepEqual(await kept.json(), { url: '/new', method: 'POST', body: '{"a":1}', auth: 'Bearer same-origin' });
      assert.equal(kept.url, `${srv.url}/new`);
      assert.equal(kept.redirected, true);
      assert.deepEqual(await (await transportFetch(`${srv.url}/see-other`, init)).json(), { url: '/new', method: 'GET', body: '', auth: 'Bearer same-origin' });
    } finally {
      await srv.close();
    }
  });

  it('never sends a key on to another origin, and gives up on a redirect loop', async () => {
    const other = await serve((req, res) => res.end(JSON.stringify({ auth: req.headers.authorization ?? null, apiKey: req.headers['x-api-key'] ?? null })));
    const srv = await serve((req, res) => {
      if (req.url === '/away') return void res.writeHead(308, { location: `${other.url}/landing` }).end();
      res.writeHead(302, { location: '/loop' }).end();
    });
    try {
      const res = await transportFetch(`${srv.url}/away`, { method: 'POST', headers: { Authorization: 'Bearer sk-secret', 'x-api-key': 'sk-ant-secret' }, body: '{}' });
      assert.deepEqual(await res.json(), { auth: null, apiKey: null });
      await assert.rejects(transportFetch(`${srv.url}/loop`), (err: Error & { cause?: Error }) => err instanceof TypeError && /redirect count/.test(err.cause?.message ?? ''));
    } finally {
      await srv.close();
      await other.close();
    }
  });

  it('is what the OpenAI SDK reads an answer and an HTTP error through', async () => {
    const srv = await serve((req, res) => {
      if (req.url?.includes('/chat/completions') && req.headers.authorization === 'Bearer sk-good') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
        return;
      }
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit' } }));
    });
    try {
      const client = (key: string): OpenAI => new OpenAI({ apiKey: key, baseURL: `${srv.url}/v1`, maxRetries: 0, fetch: transportFetch, logLevel: 'off' });
      const ok = await client('sk-good').chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(ok.choices[0]?.message.content, 'hi there');
      await assert.rejects(client('sk-bad').chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }), (err: unknown) => err instanceof APIError && err.status === 429 && (err.headers as Headers | undefined)?.get('retry-after') === '7');
    } finally {
      await srv.close();
    }
  });
});
