import type { BackendSnapshot } from '../../../src/backends/backend-pool';
import type { ConnectionRecord } from '../../../src/connection-table';
import type { Family } from '../../../src/admin/metric-families';
import { mergeBackends, mergeConnections, mergeFamilies } from '../../../src/cluster/aggregate';

function record(id: number, openedAt: number): ConnectionRecord {
  return { id, client: { address: '127.0.0.1', port: 40000 + id }, backend: { id: 'a' }, route: 'default', protocol: 'websocket', openedAt, bytesIn: 0, bytesOut: 0, dataPlane: 'js' };
}

function backend(id: string, state: BackendSnapshot['state'], activeConnections: number): BackendSnapshot {
  return { id, url: `http://${id}`, weight: 1, state, activeConnections, maxConnections: Infinity, route: 'default' };
}

describe('mergeConnections()', () => {
  it('tags every record with its worker and orders them oldest first across workers', () => {
    const merged = mergeConnections([
      { worker: 1, value: [record(1, 30), record(2, 10)] },
      { worker: 2, value: [record(1, 20)] },
    ]);
    expect(merged.map((r) => [r.worker, r.id, r.openedAt])).toEqual([
      [1, 2, 10],
      [2, 1, 20],
      [1, 1, 30],
    ]);
    expect(Object.isFrozen(merged[0])).toBe(true);
  });
});

describe('mergeBackends()', () => {
  it('sums live counts, keeps each worker view and takes the state most workers report', () => {
    const merged = mergeBackends([
      { worker: 1, value: [backend('a', 'up', 2), backend('b', 'down', 0)] },
      { worker: 2, value: [backend('a', 'up', 3), backend('b', 'up', 1)] },
      { worker: 3, value: [backend('a', 'draining', 1), backend('b', 'down', 0)] },
    ]);
    expect(merged.map((b) => [b.id, b.activeConnections, b.state])).toEqual([
      ['a', 6, 'up'],
      ['b', 1, 'down'],
    ]);
    expect(merged[0]!.byWorker).toEqual([
      { worker: 1, state: 'up', activeConnections: 2 },
      { worker: 2, state: 'up', activeConnections: 3 },
      { worker: 3, state: 'draining', activeConnections: 1 },
    ]);
  });

  it('keeps backends of different routes with the same id apart', () => {
    const api = { ...backend('a', 'up', 4), route: 'api' };
    const merged = mergeBackends([{ worker: 1, value: [backend('a', 'up', 1), api] }]);
    expect(merged.map((b) => [b.route, b.activeConnections])).toEqual([
      ['default', 1],
      ['api', 4],
    ]);
  });
});

describe('mergeFamilies()', () => {
  const families = (opened: number, live: number, up: number): Family[] => [
    { name: 'switchboard_connections_opened_total', help: 'h', type: 'counter', samples: [{ labels: { backend: 'a' }, value: opened }] },
    { name: 'switchboard_connections', help: 'h', type: 'gauge', samples: [{ labels: { backend: 'a' }, value: live }] },
    { name: 'switchboard_backend_up', help: 'h', type: 'gauge', samples: [{ labels: { backend: 'a' }, value: up }] },
    {
      name: 'switchboard_upstream_seconds',
      help: 'h',
      type: 'histogram',
      samples: [
        { labels: { backend: 'a', le: '0.1' }, value: opened, suffix: '_bucket' },
        { labels: { backend: 'a' }, value: opened, suffix: '_count' },
      ],
    },
  ];

  it('sums counters, histograms and the connections gauge; averages state gauges', () => {
    const merged = mergeFamilies([
      { worker: 1, value: families(3, 1, 1) },
      { worker: 2, value: families(5, 2, 0) },
    ]);
    const value = (name: string, suffix?: string): number => merged.find((f) => f.name === name)!.samples.find((s) => s.suffix === suffix)!.value;
    expect(value('switchboard_connections_opened_total')).toBe(8);
    expect(value('switchboard_connections')).toBe(3);
    expect(value('switchboard_backend_up')).toBe(0.5);
    expect(value('switchboard_upstream_seconds', '_bucket')).toBe(8);
    expect(value('switchboard_upstream_seconds', '_count')).toBe(8);
    expect(merged.map((f) => f.name)).toEqual(families(0, 0, 0).map((f) => f.name));
  });

  it('keeps a series only one worker has', () => {
    const merged = mergeFamilies([
      { worker: 1, value: [{ name: 'c', help: 'h', type: 'counter', samples: [{ labels: { backend: 'a' }, value: 1 }] }] },
      { worker: 2, value: [{ name: 'c', help: 'h', type: 'counter', samples: [{ labels: { backend: 'b' }, value: 2 }] }] },
    ]);
    expect(merged[0]!.samples.map((s) => [s.labels['backend'], s.value])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });
});
