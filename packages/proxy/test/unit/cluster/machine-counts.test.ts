import { BackendPool } from '../../../src/backends/backend-pool';
import { ConnectionTable } from '../../../src/connection-table';
import { resolveBackend } from '../../../src/resolve-options';
import { LeastConnectionsStrategy } from '../../../src/strategies/least-connections';
import { IpHashStrategy } from '../../../src/strategies/ip-hash';
import { fakeContext } from '../strategies/fakes';

/** A pool wired to a strategy as a Route wires it. */
function setup(strategy: LeastConnectionsStrategy | IpHashStrategy, maxConnections?: number): { table: ConnectionTable; pool: BackendPool } {
  const table = new ConnectionTable();
  const pool = new BackendPool(
    ['a', 'b', 'c'].map((id, i) => resolveBackend({ url: `http://127.0.0.1:${9001 + i}`, id, ...(maxConnections !== undefined && { maxConnections }) }, 'backend')),
    table,
  );
  pool.onChange = (all) => strategy.update(all);
  pool.onLoadChange = (all) => strategy.onLoadChange(all);
  strategy.update(pool.all());
  return { table, pool };
}

describe('ConnectionTable.loadFor() with other workers\' counts', () => {
  it('adds the remote counts to the local ones; countFor() and snapshots stay local', () => {
    const { table, pool } = setup(new LeastConnectionsStrategy());
    table.add('10.0.0.1', 1, 'a', 'websocket');
    table.setRemoteCounts(new Map([['a', 5], ['b', 2]]));
    expect([table.loadFor('a'), table.loadFor('b'), table.loadFor('c')]).toEqual([6, 2, 0]);
    expect(table.countFor('a')).toBe(1);
    expect(pool.get('a')!.activeConnections).toBe(6);
    expect(pool.get('a')!.snapshot().activeConnections).toBe(1);
  });

  it('reports every add and remove to onCountChange', () => {
    const table = new ConnectionTable();
    let changes = 0;
    table.onCountChange = () => changes++;
    const entry = table.add('10.0.0.1', 1, 'a', 'http');
    table.remove(entry);
    table.remove(entry);
    expect(changes).toBe(2);
    expect(table.localCounts().size).toBe(0);
  });
});

describe('strategies and machine-wide counts', () => {
  it('least-connections re-sorts on onLoadChange: the backend other workers filled is picked last', () => {
    const strategy = new LeastConnectionsStrategy();
    const { table, pool } = setup(strategy);
    table.setRemoteCounts(new Map([['a', 3], ['c', 1]]));
    pool.loadsChanged();
    const ctx = fakeContext();
    expect(strategy.pick(ctx, pool.candidates())!.id).toBe('b');
  });

  it('maxConnections counts the other workers\' connections too', () => {
    const { table, pool } = setup(new LeastConnectionsStrategy(), 2);
    table.setRemoteCounts(new Map([['a', 2]]));
    pool.loadsChanged();
    expect(pool.candidates().map((b) => b.id)).toEqual(['b', 'c']);
  });

  it('bounded load recounts its machine-wide total on onLoadChange', () => {
    const strategy = new IpHashStrategy({ boundedLoad: { factor: 1.25 } });
    const { table, pool } = setup(strategy);
    const ctx = fakeContext();
    const home = strategy.pick(ctx, pool.candidates())!.id;
    const [other] = ['a', 'b', 'c'].filter((id) => id !== home);
    // 2 + 2 + 0 held elsewhere: the bound for the 5th is ceil(1.25 x 5 / 3) = 3, so home (3 with it) keeps the key.
    table.setRemoteCounts(new Map([[home!, 2], [other!, 2]]));
    pool.loadsChanged();
    expect(strategy.pick(ctx, pool.candidates())!.id).toBe(home);
    // 4 + 2 + 0: the bound is ceil(1.25 x 7 / 3) = 3 and home would hold 5: the key overflows.
    table.setRemoteCounts(new Map([[home!, 4], [other!, 2]]));
    pool.loadsChanged();
    expect(strategy.pick(ctx, pool.candidates())!.id).not.toBe(home);
  });
});
