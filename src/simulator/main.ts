// CLI entry of the loopback provider simulator (`node dist/simulator.js [--port N] [--chaos R]
// [--seed N] [--latency MS]`): prints its base URLs as one JSON line and runs until SIGINT/SIGTERM.
import { ProviderSimulator } from './providerSimulator';

interface CliOptions {
  port: number;
  chaos: number;
  seed?: number;
  latency: number;
}

const USAGE = 'usage: simulator [--port N] [--chaos 0..1] [--seed N] [--latency MS]';

function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = { port: 0, chaos: 0, latency: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    }
    const value = inline ?? argv[++i];
    const n = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(n)) throw new Error(`${flag} needs a number\n${USAGE}`);
    switch (flag) {
      case '--port':
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('--port must be 0..65535');
        opts.port = n;
        break;
      case '--chaos':
        if (n < 0 || n > 1) throw new Error('--chaos must be between 0 and 1');
        opts.chaos = n;
        break;
      case '--seed':
        opts.seed = n;
        break;
      case '--latency':
        if (n < 0) throw new Error('--latency must be >= 0');
        opts.latency = n;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const sim = new ProviderSimulator();
  const address = await sim.start(opts.port);
  if (opts.chaos > 0) sim.setChaos({ rate: opts.chaos, seed: opts.seed });
  if (opts.latency > 0) sim.setLatency(opts.latency);
  process.stdout.write(JSON.stringify(address) + '\n');
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
