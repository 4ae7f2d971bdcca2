// Native-data-plane specifics (which plane a connection uses, the option, the env variable): NOT part of
// the forced-JS matrix run (test:js-data-plane), since it asserts the default plane itself.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createProxy, type ConnectionRecord, type SwitchboardError } from '@switchboard/proxy';
import { resolveDataPlane } from '../packages/proxy/src/native/data-plane';
import { NativeRelay, nativeRelayLoadError } from '../packages/proxy/src/native/native-relay';
import { CheckedProxies, Resources, openWs, roundTrip, startBackend, waitFor } from './helpers/servers';
import { listenHttps, makeTestPki } from './helpers/tls';

// Under CI the addon must have been built: a silent fallback to JS would hide a broken build.
if (process.env.CI === 'true' && !NativeRelay.available) throw new Error(`native relay not available under CI: ${nativeRelayLoadError}`);
const expected = NativeRelay.available ? 'native' : 'js';

describe(`data plane selection (native relay ${NativeRelay.available ? 'built' : `not available: ${nativeRelayLoadError}`})`, () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it(`relays a plain WebSocket on the ${expected} data plane by default, its byte counters live, its close event with the same record`, async () => {
    const backend = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [backend.url] });
    // 'auto' unless SWITCHBOARD_DATA_PLANE=native (native/sanitize.sh sets it so the ASan build must load).
    const mode = resolveDataPlane(undefined, process.env.SWITCHBOARD_DATA_PLANE);
    expect(proxy.dataPlane).toEqual(NativeRelay.available ? { mode, native: true } : { mode, native: false, reason: nativeRelayLoadError });
    const closed: [ConnectionRecord, SwitchboardError | undefined][] = [];
    proxy.on('connectionClose', (record, reason) => closed.push([record, reason]));
    const ws = await openWs(res, wsUrl);
    expect(await roundTrip(ws, 'x'.repeat(1000))).toBe('x'.repeat(1000));
    const [record] = proxy.connections();
    expect(record).toMatchObject({ protocol: 'websocket', dataPlane: expected });
    // Both ways counted while the connection lives (the messages are deflated: sizes vary).
    expect(record!.bytesIn).toBeGreaterThan(0);
    expect(record!.bytesOut).toBeGreaterThan(0);
    const before = record!.bytesIn;
    await roundTrip(ws, 'y');
    expect(proxy.connections()[0]!.bytesIn).toBeGreaterThan(before);
    ws.close(1000);
    await once(ws, 'close');
    await waitFor(() => closed.length === 1, 3000, 'connectionClose');
    const [last, reason] = closed[0]!;
    expect(reason).toBeUndefined();
    expect(last).toMatchObject({ id: record!.id, dataPlane: expected });
    expect(last.bytesIn).toBeGreaterThan(before);
  });

  it("keeps every connection on the JS splice with dataPlane: 'js', and says so", async () => {
    const backend = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [backend.url], dataPlane: 'js' });
    expect(proxy.dataPlane).toEqual({ mode: 'js', native: false, reason: "dataPlane is 'js'" });
    const ws = await openWs(res, wsUrl);
    expect(await roundTrip(ws, 'whoami')).toBe('a');
    expect(proxy.connections()).toMatchObject([{ protocol: 'websocket', dataPlane: 'js' }]);
    ws.close();
    await once(ws, 'close');
  });

  it('keeps a TLS client on the JS splice (its fd carries ciphertext)', async () => {
    const pki = makeTestPki();
    const backend = await startBackend(res, 'a');
    const proxy = createProxy({ backends: [backend.url] });
    const port = await listenHttps(res, proxy, pki);
    const ws = new WebSocket(`wss://localhost:${port}/`, { ca: pki.ca });
    res.add(() => ws.terminate());
    await once(ws, 'open');
    expect(await roundTrip(ws, 'whoami')).toBe('a');
    expect(proxy.connections()).toMatchObject([{ dataPlane: 'js' }]);
    ws.close();
    await waitFor(() => proxy.connections().length === 0, 3000, 'empty table');
  });

  it('rejects a bad dataPlane value; SWITCHBOARD_DATA_PLANE sets the default only, an explicit option wins', () => {
    expect(() => createProxy({ backends: ['http://127.0.0.1:1'], dataPlane: 'fast' as 'js' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: "options.dataPlane must be 'auto', 'js' or 'native', got fast" }),
    );
    expect(resolveDataPlane(undefined, undefined)).toBe('auto');
    expect(resolveDataPlane(undefined, '')).toBe('auto');
    expect(resolveDataPlane(undefined, 'js')).toBe('js');
    expect(resolveDataPlane('auto', 'js')).toBe('auto');
    expect(resolveDataPlane('js', 'native')).toBe('js');
    expect(() => resolveDataPlane(undefined, 'fast')).toThrow(/SWITCHBOARD_DATA_PLANE must be auto, js or native, got fast/);
    if (NativeRelay.available) expect(resolveDataPlane('native', undefined)).toBe('native');
    else expect(() => resolveDataPlane('native', undefined)).toThrow(/is 'native' but the native relay is not available/);
  });

  it("throws ERR_INVALID_OPTION naming the load error when dataPlane: 'native' is asked for and the addon cannot load", () => {
    // A separate process whose addon path points nowhere: the module loads once per process.
    const dist = join(__dirname, '..', 'packages', 'proxy', 'dist', 'index.js');
    const script = `
      const { createProxy } = require(${JSON.stringify(dist)});
      const p = createProxy({ backends: ['http://127.0.0.1:1'] });
      let thrown;
      try { createProxy({ backends: ['http://127.0.0.1:1'], dataPlane: 'native' }); } catch (e) { thrown = e.code + ': ' + e.message; }
      console.log(JSON.stringify({ status: p.dataPlane, thrown }));`;
    const out = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, SWITCHBOARD_NATIVE_RELAY: '/nonexistent/switchboard_relay.node', SWITCHBOARD_DATA_PLANE: '' },
      encoding: 'utf8',
    });
    const { status, thrown } = JSON.parse(out) as { status: { mode: string; native: boolean; reason: string }; thrown: string };
    expect(status).toMatchObject({ mode: 'auto', native: false });
    expect(status.reason).toMatch(/native relay not loaded: Cannot find module/);
    expect(thrown).toMatch(/^ERR_INVALID_OPTION: options.dataPlane is 'native' but the native relay is not available \(native relay not loaded: Cannot find module/);
  });
});
