/**
 * The orchestrator's side of the load generators (client.ts): start them, ask them all for their status
 * and add it up, wait for a condition on the sum, bounded in time.
 */
import { join } from 'node:path';
import { forkChild, waitForMessage, type Child } from '../lib/children';
import type { Message } from '../lib/ipc';
import { sleep } from '../lib/quiet';
import type { ClientStatus, ScaleClientConfig } from './client';

export interface Total {
  live: number;
  dead: number;
  pending: number;
  drained: number;
  drainedBeforeLive: number;
  reopened: number;
  /** Earliest 1012 seen by any client (Date.now ms; 0: none). */
  firstDrainAt: number;
  /** Latest reopen by any client (Date.now ms; 0: none). */
  lastReopenAt: number;
  failures: Record<string, number>;
  examples: Record<string, string>;
}

export function addUp(list: readonly ClientStatus[]): Total {
  const t: Total = { live: 0, dead: 0, pending: 0, drained: 0, drainedBeforeLive: 0, reopened: 0, firstDrainAt: 0, lastReopenAt: 0, failures: {}, examples: {} };
  for (const s of list) {
    t.live += s.live;
    t.dead += s.dead;
    t.pending += s.pending;
    t.drained += s.drained;
    t.drainedBeforeLive += s.drainedBeforeLive;
    t.reopened += s.reopened;
    if (s.firstDrainAt !== 0 && (t.firstDrainAt === 0 || s.firstDrainAt < t.firstDrainAt)) t.firstDrainAt = s.firstDrainAt;
    t.lastReopenAt = Math.max(t.lastReopenAt, s.lastReopenAt);
    for (const [k, v] of Object.entries(s.failures)) t.failures[k] = (t.failures[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.examples)) t.examples[k] ??= v;
  }
  return t;
}

export function failureCount(t: Total): number {
  return Object.values(t.failures).reduce((a, b) => a + b, 0);
}

export function describeFailures(t: Total): string {
  const kinds = Object.entries(t.failures);
  if (kinds.length === 0) return 'none';
  return kinds.map(([k, v]) => `${k}: ${v} (e.g. ${t.examples[k] ?? '?'})`).join('; ');
}

export class LoadGenerators {
  readonly children: Child[] = [];
  /** Last `progress` of each, for the log while nothing else asks. */
  readonly last: ClientStatus[] = [];

  static async start(configs: ScaleClientConfig[], nofile: number, execArgv: string[]): Promise<LoadGenerators> {
    const lgs = new LoadGenerators();
    for (const [i, cfg] of configs.entries()) {
      const c = forkChild(`client-${i}`, join(__dirname, 'client.js'), [JSON.stringify(cfg)], execArgv, {}, nofile);
      lgs.children.push(c);
      await waitForMessage(c, 'ready', 15_000);
      c.proc.on('message', (m: Message) => {
        if (m?.type === 'progress') lgs.last[i] = m as unknown as ClientStatus;
      });
    }
    return lgs;
  }

  lastTotal(): Total {
    return addUp(this.last.filter((s) => s !== undefined));
  }

  /** Sends `msg` to all and waits for each one's `reply`. */
  async ask<T>(msg: Message, reply: string, timeoutMs: number): Promise<T[]> {
    const answers = this.children.map((c) => waitForMessage<Message>(c, reply, timeoutMs));
    for (const c of this.children) c.proc.send(msg);
    return (await Promise.all(answers)) as unknown as T[];
  }

  /** Every load generator's status, added up. Generous timeout: one busy with ~14,000 closes and reopens at once on
   * a loaded machine took more than 10 s to answer. */
  async status(timeoutMs = 60_000): Promise<Total> {
    return addUp(await this.ask<ClientStatus>({ type: 'status' }, 'status', timeoutMs));
  }

  /** Polls every `everyMs` until `done(total)` or `timeoutMs`; returns the last total and whether it was met. */
  async waitFor(done: (t: Total) => boolean, timeoutMs: number, everyMs = 250, onPoll?: (t: Total) => void): Promise<{ total: Total; met: boolean }> {
    const until = Date.now() + timeoutMs;
    let total = await this.status(Math.max(1000, until - Date.now()));
    while (!done(total) && Date.now() < until) {
      await sleep(everyMs);
      try {
        total = await this.status(Math.max(1000, until - Date.now()));
      } catch {
        continue; // a load generator too busy to answer in time: ask again while time is left
      }
      onPoll?.(total);
    }
    return { total, met: done(total) };
  }
}
