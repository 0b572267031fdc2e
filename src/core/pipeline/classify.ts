// Stage 2, classify: `auto` → a task kind by local heuristics; when they are unsure and a
// classifier agent is set, that agent is asked through the same stages as every request (key,
// price, breaker, window, budget reservation, limiter, retries, ledger with task 'classify').
// Whatever stops the classifier (no key, breaker open, a paused key, over budget, a failure)
// leaves the heuristics' answer. What it cost counts in the request's cost and usage. Throws nothing.
import { toMaofError } from '../errors';
import { addUsage, userTurn } from '../types';
import { classifierPrompt, classifyTask, parseClassifierAnswer, type Classification } from '../router/taskClassifier';
import { RequestContext } from './requestContext';
import { tryAgent } from './route';

/** The task the classifier's own request is billed under. */
export const CLASSIFY_TASK = 'classify';
/** Below this heuristic confidence the classifier agent (if any) is asked. */
const UNSURE_BELOW = 0.5;

export async function classify(ctx: RequestContext): Promise<void> {
  if (ctx.task !== 'auto') return;
  const local = classifyTask(ctx.text, ctx.services.config.tasks);
  // A pinned agent answers whatever the task: the heuristics only pick its instructions.
  if (ctx.req.agentId) {
    ctx.task = local.task;
    return;
  }
  ctx.classification = await askClassifier(ctx, local);
  ctx.task = ctx.classification.task;
}

async function askClassifier(ctx: RequestContext, local: Classification): Promise<Classification> {
  const { services } = ctx;
  const config = services.config;
  const classifierId = config.classifierAgent;
  if (local.confidence >= UNSURE_BELOW || !classifierId) return local;
  const agent = config.agents.find((a) => a.id === classifierId);
  if (!agent) return local;
  // Under the asking request's id, so its attempts and waits show (and end) with that request.
  const sub = new RequestContext(
    services,
    {
      messages: [userTurn(classifierPrompt(ctx.text, config.tasks))],
      instructions: 'own',
      task: CLASSIFY_TASK,
      agentId: agent.id,
      maxOutputTokens: 8,
      temperature: 0,
      structured: false,
      signal: ctx.req.signal,
      source: ctx.source,
    },
    ctx.requestId,
  );
  // A one-shot question: nothing for a provider to keep in its prompt cache.
  sub.conversationKey = undefined;
  // The heuristics answer when the classifier agent goes quiet: its first-token deadline always holds.
  sub.fallbacks = 'always';
  try {
    // The heuristics stand behind it like a fallback agent: a key the provider paused is not waited out.
    const result = await tryAgent(sub, agent, true);
    const task = parseClassifierAnswer(result.text, config.tasks);
    return task ? { task, confidence: 0.8, reason: `classified by ${agent.id}`, source: 'agent' } : local;
  } catch (err) {
    services.logger.debug(`Classifier agent unavailable, using heuristics: ${toMaofError(err).code}`);
    return local;
  } finally {
    // What classifying cost is part of what the request cost (its ledger entry stays apart, under 'classify').
    ctx.costUsd += sub.costUsd;
    ctx.usage = addUsage(ctx.usage, sub.usage);
    if (sub.usageEstimated) ctx.usageEstimated = true;
  }
}
