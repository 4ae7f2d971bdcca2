import type { RuntimeChange } from '../../../src/cluster/messages';
import { ReplayLog } from '../../../src/cluster/replay-log';

function accepted(log: ReplayLog, change: RuntimeChange): void {
  log.push(change);
  log.settle(change, true);
}

describe('ReplayLog', () => {
  it('keeps only the last weight and the last drain state of a backend, in order', () => {
    const log = new ReplayLog();
    log.push({ type: 'add', spec: { url: 'http://127.0.0.1:9002', id: 'b' } });
    for (let w = 1; w <= 100; w++) accepted(log, { type: 'weight', id: 'b', weight: w });
    accepted(log, { type: 'drain', id: 'b' });
    accepted(log, { type: 'undrain', id: 'b' });
    accepted(log, { type: 'weight', id: 'a', weight: 2 });
    expect(log.snapshot()).toEqual([
      { type: 'add', spec: { url: 'http://127.0.0.1:9002', id: 'b' } },
      { type: 'weight', id: 'b', weight: 100 },
      { type: 'undrain', id: 'b' },
      { type: 'weight', id: 'a', weight: 2 },
    ]);
  });

  it('a removal drops what was set on the backend but keeps its add, and routes are told apart', () => {
    const log = new ReplayLog();
    accepted(log, { type: 'add', spec: 'http://127.0.0.1:9002' });
    accepted(log, { type: 'weight', id: '127.0.0.1:9002', weight: 3 });
    accepted(log, { type: 'weight', id: '127.0.0.1:9002', weight: 5, route: 'api' });
    accepted(log, { type: 'remove', id: '127.0.0.1:9002', drain: true });
    expect(log.snapshot().map((c) => c.type)).toEqual(['add', 'weight', 'remove']);
    expect(log.snapshot()[1]).toMatchObject({ route: 'api' });
  });

  it('forgets a change no worker accepted, and that change erases nothing before it', () => {
    const log = new ReplayLog();
    accepted(log, { type: 'weight', id: 'b', weight: 3 });
    const refused = { type: 'weight', id: 'b', weight: 0 } as const;
    log.push(refused);
    expect(log.snapshot()).toHaveLength(2);
    log.settle(refused, false);
    expect(log.snapshot()).toEqual([{ type: 'weight', id: 'b', weight: 3 }]);
  });
});
