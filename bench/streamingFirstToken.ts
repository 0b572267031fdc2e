// P2: time to first token added by the pipeline, up to the message the chat posts to its webview.
// chatView.ts imports 'vscode' and cannot run in plain Node, so this reproduces its path with the
// same pure pieces: an events listener turning events into status lines (chatModel.statusLine), the
// DeltaCoalescer whose first push posts at once, and a post() that serialises the message as
// webview.postMessage does. Compared with the first content delta of the bare SDK stream.
//   node --import tsx bench/streamingFirstToken.ts [--iterations N]
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MaofEvent } from '../src/core/events';
import { Orchestrator } from '../src/core/orchestrator';
import { FileStateStore } from '../src/core/persistence/fileStateStore';
import { statusLine } from '../src/host/chat/chatModel';
import { DeltaCoalescer } from '../src/host/chat/deltaCoalescer';
import type { ChatHostMessage as HostMessage } from '../src/shared/chatProtocol';
import { argNumber, bareClient, interleaved, benchConfig, BenchSecrets, captureRequest, emitResult, sampleContext, startSimulator, tempDir } from './harness';
import { median, round, roundSummary, summarize } from './stats';
import { userTurn } from '../src/core/types';

const PROMPT = 'Explain what helper12 returns for negative input and suggest a fix.';

async function main(): Promise<void> {
  const iterations = argNumber('--iterations', 1500);
  const warmup = Math.min(300, Math.ceil(iterations / 5));
  const sim = await startSimulator();
  try {
    const config = benchConfig(sim);
    const context = sampleContext();
    const dir = tempDir('p2');

    const request = await captureRequest(config, dir, { messages: [userTurn(PROMPT)], task: 'auto', context, stream: true, structured: false, sessionId: randomUUID() });
    const { messages } = request;

    const orchestrator = new Orchestrator({ config, secrets: new BenchSecrets(), store: new FileStateStore(join(dir, 'state.json')) });
    // With MAOF's transport, as the pipeline has: the difference is the pipeline's own.
    const client = await bareClient(sim, 'maof');
    const posted: string[] = [];
    // The chat serialises every message it posts (postMessage clones it into the webview).
    const post = (message: HostMessage): void => {
      posted.push(JSON.stringify(message));
      if (posted.length > 64) posted.length = 0;
    };

    /** Milliseconds from the user's send to the first `chat/stream` post, the chat's way. */
    const pipeline = async (): Promise<number> => {
      const t0 = performance.now();
      let firstPost = -1;
      const messageId = randomUUID();
      const requestId = randomUUID();
      const unsubscribe = orchestrator.events.on((event: MaofEvent) => {
        if (!('requestId' in event) || event.requestId !== requestId) return;
        const line = statusLine(event, config.agents, config.retry.maxAttempts);
        if (line) post({ type: 'chat/status', messageId, ...line });
      });
      const coalescer = new DeltaCoalescer((text) => {
        post({ type: 'chat/stream', messageId, done: false, content: text });
        if (firstPost < 0) firstPost = performance.now() - t0;
      });
      try {
        const r = await orchestrator.run({
          messages: [userTurn(PROMPT)],
          task: 'auto',
          context,
          sessionId: messageId,
          stream: true,
          structured: false,
          onDelta: (text) => coalescer.push(text),
          onRestart: () => coalescer.reset(),
          requestId,
        });
        coalescer.close();
        if (!r.ok) throw new Error(`pipeline failed: ${r.error.code} ${r.error.message}`);
      } finally {
        unsubscribe();
      }
      if (firstPost < 0) throw new Error('no delta was posted');
      return firstPost;
    };

    /** Milliseconds from the call to the first content delta of the bare SDK stream. */
    const bare = async (): Promise<number> => {
      const t0 = performance.now();
      let first = -1;
      const stream = await client.chat.completions.create({ model: request.model, messages, max_tokens: request.maxOutputTokens, stream: true, stream_options: { include_usage: true }, ...(request.temperature !== undefined ? { temperature: request.temperature } : {}) });
      for await (const chunk of stream) {
        if (first < 0 && chunk.choices[0]?.delta?.content) first = performance.now() - t0;
      }
      if (first < 0) throw new Error('bare stream had no content');
      return first;
    };

    for (let i = 0; i < warmup; i++) {
      await pipeline();
      await bare();
    }
    const [a, b] = await interleaved(iterations, pipeline, bare);
    await orchestrator.flush();
    emitResult({
      iterations,
      warmup,
      chatPath: 'reproduced from chatView.send with chatModel.statusLine + DeltaCoalescer + JSON-serialising post (chatView imports vscode)',
      pipelineFirstPost: roundSummary(summarize(a)),
      bareFirstDelta: roundSummary(summarize(b)),
      addedP50: round(median(a) - median(b)),
      addedP99: round(summarize(a).p99 - summarize(b).p99),
    });
  } finally {
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
