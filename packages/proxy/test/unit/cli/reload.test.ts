import { parseHostPort } from '../../../src/cli/args';
import { loadSettings, type Settings } from '../../../src/cli/config';
import { planReload, runningAfter, type LiveSection } from '../../../src/cli/reload';

/** Settings as the bin would load them from these flags (no file). */
function settings(backends: string[], listen?: string): Settings {
  return loadSettings({ help: false, version: false, backends, ...(listen !== undefined && { listen }) });
}

describe('parseHostPort', () => {
  test.each([
    ['8080', { host: '127.0.0.1', port: 8080 }],
    [':9', { host: '127.0.0.1', port: 9 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
  ])('%s', (text, expected) => {
    expect(parseHostPort(text, '--listen')).toEqual(expected);
  });

  test.each(['', 'host', 'host:', '1.2.3.4:70000', '::1:80', 'a b:1'])('rejects %j naming the flag', (text) => {
    expect(() => parseHostPort(text, '--listen')).toThrow(/^--listen must be "HOST:PORT" or a port number/);
  });
});

describe('planReload', () => {
  test('added, removed and reweighted backends become live changes; the rest is a restart matter', () => {
    const prev = settings(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
    const next = settings(['http://127.0.0.1:2', 'http://127.0.0.1:3'], '127.0.0.1:9');
    const plan = planReload(prev, next);
    expect(plan.changes.map((c) => c.describe)).toEqual(['backend 127.0.0.1:3 added', 'backend 127.0.0.1:1 draining, then removed']);
    expect(plan.restartNeeded).toEqual(['listen']);
  });

  test('a section plugged in owns its keys: they are diffed by it, not reported for restart', () => {
    const prev = settings(['http://127.0.0.1:1']);
    const next = settings(['http://127.0.0.1:1']);
    const routes: LiveSection = { keys: ['strategy'], diff: () => [{ describe: 'routes swapped', apply: () => undefined }] };
    const plan = planReload(prev, { ...next, options: { ...next.options, strategy: 'ip-hash' } }, [routes]);
    expect(plan.changes.map((c) => c.describe)).toEqual(['routes swapped']);
    expect(plan.restartNeeded).toEqual([]);
  });

  test('same settings: nothing to do', () => {
    const a = settings(['http://127.0.0.1:1']);
    const plan = planReload(a, settings(['http://127.0.0.1:1']));
    expect(plan).toEqual({ changes: [], restartNeeded: [] });
  });

  test('after a reload the running settings take the live keys only: a restart matter is reported again next time', () => {
    const prev = settings(['http://127.0.0.1:1']);
    const next = { ...settings(['http://127.0.0.1:1', 'http://127.0.0.1:2']), listen: { host: '127.0.0.1', port: 9 } };
    const changed = { ...next, options: { ...next.options, connectTimeout: 1234 } };
    const running = runningAfter(prev, changed);
    expect(running.resolved.backends.map((b) => b.id)).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(running.resolved.connectTimeout).toBe(prev.resolved.connectTimeout);
    expect(running.listen).toEqual(prev.listen);
    expect([...planReload(running, changed).restartNeeded].sort()).toEqual(['connectTimeout', 'listen']);
    expect(planReload(running, changed).changes).toEqual([]);
  });

  test('routes: backends of a route in both change live with the route named; added, removed or re-pathed routes wait for a restart', () => {
    const base = settings(['http://127.0.0.1:1']);
    const withRoutes = (routes: NonNullable<Settings['options']['routes']>): Settings => ({ ...base, options: { ...base.options, routes } });
    const prev = withRoutes([
      { id: 'api', path: '/api', backends: ['http://127.0.0.1:10', { url: 'http://127.0.0.1:11', weight: 1 }] },
      { id: 'old', path: '/old', backends: ['http://127.0.0.1:20'] },
      { id: 'ws', path: '/ws', backends: ['http://127.0.0.1:30'] },
    ]);
    const next = withRoutes([
      { id: 'api', path: '/api', backends: [{ url: 'http://127.0.0.1:11', weight: 3 }, 'http://127.0.0.1:12'] },
      { id: 'ws', path: '/socket', backends: ['http://127.0.0.1:30'] },
      { id: 'new', path: '/new', backends: ['http://127.0.0.1:40'] },
    ]);
    const plan = planReload(prev, next);
    expect(plan.changes.map((c) => c.describe)).toEqual([
      'backend 127.0.0.1:11 (route api) weight 1 -> 3',
      'backend 127.0.0.1:12 (route api) added',
      'backend 127.0.0.1:10 (route api) draining, then removed',
      'route ws host/path changed: ignored until a restart',
      'route new added: ignored until a restart',
      'route old removed: ignored until a restart',
    ]);
    expect(plan.restartNeeded).toEqual([]);
  });
});
