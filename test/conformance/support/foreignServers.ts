// Starts and stops the servers the conformance suite did not write, from their npm packages: the
// OpenAI-compatible mock server @dwmkerr/mock-llm and the Portkey AI gateway. Each runs as its own
// Node process on an ephemeral 127.0.0.1 port (loopbackListen.cjs forces the host and reports the
// port) and is killed by its pid when the suite ends, or when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
const PRELOAD = path.join(__dirname, 'loopbackListen.cjs');

export interface ForeignServer {
  name: string;
  port: number;
  baseUrl: string;
  /** Everything the server printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function start(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ForeignServer> {
  const child = spawn(process.execPath, ['--require', PRELOAD, script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out = (out + d).slice(-20_000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 20 s:\n${out}`));
    }, 20_000);
    child.on('exit', (code) => {
      running.delete(child);
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening:\n${out}`));
    });
    child.stderr.on('data', (d: string) => {
      out = (out + d).slice(-20_000);
      const m = /MAOF_LISTENING (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        name,
        port,
        baseUrl: `http://127.0.0.1:${port}`,
        output: () => out,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3000).unref();
          }),
      });
    });
  });
}

/** @dwmkerr/mock-llm with the given rules file (JSON is YAML), on an ephemeral loopback port. */
export function startMockLlm(configFile: string, config: unknown): Promise<ForeignServer> {
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return start('mock-llm', path.join(ROOT, 'node_modules/@dwmkerr/mock-llm/dist/main.js'), ['--config', configFile], { HOST: '127.0.0.1', PORT: '0' });
}

/** The Portkey AI gateway (headless: no UI, no log console), on an ephemeral loopback port. */
export function startPortkey(): Promise<ForeignServer> {
  return start('portkey', path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js'), ['--port=0', '--headless']);
}
