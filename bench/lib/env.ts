/** A bench setting from the environment: a number in [lo, hi], or `def` when unset. Anything else stops the run. */
export function envInt(name: string, def: number, lo: number, hi: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`${name}=${raw}: expected a number in [${lo}, ${hi}]`);
  return n;
}
