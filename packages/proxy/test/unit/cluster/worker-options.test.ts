import { workerProxyOptions } from '../../../src/cluster/worker-options';
import type { ProxyOptions } from '../../../src/options';

describe('workerProxyOptions: what a cluster worker changes before it builds its proxy', () => {
  it('makes a shared sharedState.proxyId unique per worker, so workers do not overwrite one fleet summary', () => {
    const options: ProxyOptions = { backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379', proxyId: 'edge-1' } };
    expect(workerProxyOptions(options, 3).sharedState).toEqual({ redis: 'redis://127.0.0.1:6379', proxyId: 'edge-1/w3' });
    expect(workerProxyOptions(options, 4).sharedState?.proxyId).toBe('edge-1/w4');
    // The script's own object is left as it was.
    expect(options.sharedState?.proxyId).toBe('edge-1');
  });

  it('leaves options without sharedState or without a proxyId untouched (each worker then makes its own id)', () => {
    const plain: ProxyOptions = { backends: ['http://127.0.0.1:9001'] };
    expect(workerProxyOptions(plain, 1)).toBe(plain);
    const noId: ProxyOptions = { backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379' } };
    expect(workerProxyOptions(noId, 1)).toBe(noId);
  });
});
