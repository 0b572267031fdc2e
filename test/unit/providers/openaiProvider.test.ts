// OpenAI adapter contract: the real OpenAI SDK against the loopback simulator.
import { OpenAIProvider } from '../../../src/core/providers/openaiProvider';
import { describeProviderContract } from './providerContract';

describe('OpenAIProvider against the simulator', () => {
  describeProviderContract('openai', () => new OpenAIProvider());
});
