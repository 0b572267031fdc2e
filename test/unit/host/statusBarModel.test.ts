import * as assert from 'node:assert/strict';
import type { SpendSummary } from '../../../src/core/cost/costLedger';
import { statusBarView } from '../../../src/host/statusBar/statusBarModel';

function summary(over: Partial<SpendSummary> = {}): SpendSummary {
  return {
    monthUsd: 1.234,
    dayUsd: 0.2,
    reservedUsd: 0,
    byAgent: {},
    byTask: {},
    bySource: {},
    byDay: {},
    requests: 3,
    cacheHits: 2,
    savedUsd: 0.05,
    month: '2025-06',
    day: '2025-06-15',
    ...over,
  };
}

describe('statusBarView', () => {
  it('shows month spend against the monthly budget', () => {
    const v = statusBarView(summary({ monthlyLimitUsd: 20 }), [{ agentId: 'a', state: 'closed' }]);
    assert.equal(v.text, '$(pulse) MAOF $1.23 / $20.00');
    assert.equal(v.warning, false);
    assert.match(v.tooltip, /this month \(2025-06\): \$1\.23 of \$20\.00 \(6 %\)/);
    assert.match(v.tooltip, /Today: \$0\.20/);
    assert.match(v.tooltip, /Cache: 2 hits, saved \$0\.05/);
    assert.match(v.tooltip, /Circuit breakers: all closed/);
    assert.match(v.tooltip, /Click for the last requests .* and the dashboard/);
  });

  it('counts down requests that wait instead of failing, and says why', () => {
    const v = statusBarView(summary({ monthlyLimitUsd: 20 }), [], { count: 3, reason: 'budget', seconds: 12 });
    assert.equal(v.text, '$(pulse) MAOF $1.23 / $20.00 $(watch) 12 s');
    assert.match(v.tooltip, /3 requests waiting for budget held by requests in flight \(12 s\)/);
    assert.match(v.ariaLabel, /3 requests waiting for budget/);
    assert.equal(statusBarView(summary(), [], { count: 0, reason: 'rate-limit', seconds: 0 }).text, '$(pulse) MAOF $1.23');
  });

  it('shows only the spend when no budget is set', () => {
    const v = statusBarView(summary(), []);
    assert.equal(v.text, '$(pulse) MAOF $1.23');
    assert.doesNotMatch(v.tooltip, / of \$/);
  });

  it('warns while a breaker is open, naming it', () => {
    const v = statusBarView(summary(), [
      { agentId: 'gpt-4.1', state: 'open' },
      { agentId: 'claude-haiku', state: 'half-open' },
      { agentId: 'claude-sonnet', state: 'closed' },
    ]);
    assert.equal(v.warning, true);
    assert.match(v.tooltip, /open: gpt-4\.1; half-open: claude-haiku/);
    assert.match(v.ariaLabel, /1 circuit breaker open/);
  });

  it('a half-open breaker alone is not a warning', () => {
    assert.equal(statusBarView(summary(), [{ agentId: 'a', state: 'half-open' }]).warning, false);
  });

  it('warns when a budget alert fired this period', () => {
    const month = statusBarView(summary({ monthlyLimitUsd: 1.5, monthAlert: 0.8 }), []);
    assert.equal(month.warning, true);
    assert.match(month.tooltip, /Monthly budget alert: 80 % reached/);
    const day = statusBarView(summary({ dailyLimitUsd: 0.25, dayAlert: 0.8 }), []);
    assert.equal(day.warning, true);
    assert.match(day.tooltip, /Today: \$0\.20 of \$0\.25 \(80 %\)/);
    assert.match(day.tooltip, /Daily budget alert/);
  });

  it('mentions money reserved by requests in flight', () => {
    assert.match(statusBarView(summary({ reservedUsd: 0.5 }), []).tooltip, /Reserved by requests in flight: \$0\.50/);
  });
});
