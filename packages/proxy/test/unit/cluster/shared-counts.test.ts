import { setImmediate as tick } from 'node:timers/promises';
import { CountsHub } from '../../../src/cluster/shared-counts';

describe('CountsHub', () => {
  function hub(ids: number[]): { hub: CountsHub; got: Map<number, ReadonlyMap<string, number>[]> } {
    const got = new Map<number, ReadonlyMap<string, number>[]>(ids.map((id) => [id, []]));
    const h = new CountsHub(() => ids.map((id) => ({ id, send: (remote: ReadonlyMap<string, number>) => got.get(id)!.push(remote) })));
    return { hub: h, got };
  }

  it('sends each worker the sum of the other workers, once per turn however many reports arrived', async () => {
    const { hub: h, got } = hub([1, 2, 3]);
    h.report(1, new Map([['a', 2]]));
    h.report(2, new Map([['a', 1], ['b', 4]]));
    h.report(3, new Map());
    await tick();
    expect(got.get(1)).toEqual([new Map([['a', 1], ['b', 4]])]);
    expect(got.get(2)).toEqual([new Map([['a', 2]])]);
    expect(got.get(3)).toEqual([new Map([['a', 3], ['b', 4]])]);
  });

  it('sends nothing to a worker whose view did not change, and drops a worker that is gone', async () => {
    const { hub: h, got } = hub([1, 2]);
    h.report(1, new Map([['a', 1]]));
    h.report(2, new Map([['a', 1]]));
    await tick();
    h.report(1, new Map([['a', 2]]));
    await tick();
    expect(got.get(1)).toHaveLength(1);
    expect(got.get(2)!.at(-1)).toEqual(new Map([['a', 2]]));
    h.forget(1);
    await tick();
    expect(got.get(2)!.at(-1)).toEqual(new Map());
  });
});
