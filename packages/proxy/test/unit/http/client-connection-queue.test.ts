import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { ClientConnectionQueue, type QueuedExchange } from '../../../src/http/client-connection-queue';

/** A test exchange that records its life into `log`; `sync` ends it inside start() (a refused request). */
function exchange(name: string, log: string[], queue: () => ClientConnectionQueue, sync = false): QueuedExchange {
  const ex: QueuedExchange = {
    start() {
      log.push(`start ${name}`);
      if (sync) queue().done(ex);
    },
    clientGone() {
      log.push(`gone ${name}`);
      queue().done(ex);
    },
  };
  return ex;
}

describe('ClientConnectionQueue (the requests of one client connection, one at a time)', () => {
  let server: Server;
  let client: Socket;
  let accepted: Socket;

  beforeEach(async () => {
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const acceptedP = once(server, 'connection') as Promise<[Socket]>;
    client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => undefined);
    [accepted] = await acceptedP;
    accepted.on('error', () => undefined);
  });

  afterEach(async () => {
    client.destroy();
    accepted.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('is one queue per socket, made on first use', () => {
    expect(ClientConnectionQueue.of(accepted)).toBe(ClientConnectionQueue.of(accepted));
    expect(ClientConnectionQueue.of(accepted)).not.toBe(ClientConnectionQueue.of(client));
  });

  it('starts each exchange only once the one before it is done, in arrival order', () => {
    const log: string[] = [];
    const queue = ClientConnectionQueue.of(accepted);
    const a = exchange('a', log, () => queue);
    const b = exchange('b', log, () => queue);
    const c = exchange('c', log, () => queue);
    queue.push(a);
    queue.push(b);
    queue.push(c);
    expect(log).toEqual(['start a']);
    queue.done(c); // not in flight: ignored
    expect(log).toEqual(['start a']);
    queue.done(a);
    expect(log).toEqual(['start a', 'start b']);
    queue.done(b);
    expect(log).toEqual(['start a', 'start b', 'start c']);
  });

  it('runs thousands of exchanges that end inside their own start() without growing the stack', () => {
    const log: string[] = [];
    const queue = ClientConnectionQueue.of(accepted);
    const first = exchange('first', log, () => queue);
    queue.push(first);
    for (let i = 0; i < 50_000; i++) queue.push(exchange(String(i), log, () => queue, true));
    queue.done(first);
    expect(log).toHaveLength(50_001);
    expect(log[50_000]).toBe('start 49999');
  });

  it('tells the exchange in flight its client is gone and drops the waiting ones when the socket closes', async () => {
    const log: string[] = [];
    const queue = ClientConnectionQueue.of(accepted);
    queue.push(exchange('a', log, () => queue));
    queue.push(exchange('b', log, () => queue));
    client.destroy();
    await once(accepted, 'close');
    expect(log).toEqual(['start a', 'gone a']);
    queue.push(exchange('late', log, () => queue));
    expect(log).toEqual(['start a', 'gone a', 'gone late']);
  });

  it('stops reading the socket while more than 32 requests wait, and reads again once the queue is short', async () => {
    const log: string[] = [];
    const queue = ClientConnectionQueue.of(accepted);
    let received = 0;
    accepted.on('data', (c: Buffer) => (received += c.length));
    const list: QueuedExchange[] = [];
    for (let i = 0; i < 40; i++) list.push(exchange(String(i), log, () => queue));
    for (const e of list) queue.push(e);
    client.write('x');
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(0);
    for (let i = 0; i < 30; i++) queue.done(list[i]!);
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(1);
  });
});
