// Anthropic adapter contract: the real Anthropic SDK against the loopback simulator.
import { AnthropicProvider } from '../../../src/core/providers/anthropicProvider';
import { describeProviderContract } from './providerContract';

describe('AnthropicProvider against the simulator', () => {
  describeProviderContract('anthropic', () => new AnthropicProvider());
});
