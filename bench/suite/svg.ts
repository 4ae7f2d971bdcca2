/**
 * A hand-written SVG bar chart (no dependency): for each row, Switchboard against each peer, oriented
 * so that a bar longer than 1.0 means Switchboard is better (throughput: Switchboard / peer; cost:
 * peer / Switchboard). A vertical line marks parity; a tick marks the target when there is one.
 */
export interface ChartRow {
  label: string;
  bars: { name: string; value: number; color: string }[];
  /** Target on the same "higher is better" scale, if any. */
  target?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function ratioChart(title: string, subtitle: string, rows: ChartRow[]): string {
  const labelW = 330;
  const plotW = 520;
  const barH = 14;
  const gap = 3;
  const rowGap = 14;
  const top = 62;
  const legendH = 30;
  const finite = rows.flatMap((r) => [...r.bars.map((b) => b.value), r.target ?? 0]).filter((v) => Number.isFinite(v));
  const maxV = Math.max(1.25, Math.ceil(Math.max(...finite, 1) * 4) / 4);
  const x = (v: number): number => labelW + (Math.min(v, maxV) / maxV) * plotW;
  let y = top;
  const parts: string[] = [];
  for (const r of rows) {
    const h = r.bars.length * (barH + gap) - gap;
    parts.push(`<text x="${labelW - 8}" y="${y + h / 2 + 4}" text-anchor="end" font-size="12">${esc(r.label)}</text>`);
    r.bars.forEach((b, i) => {
      const by = y + i * (barH + gap);
      if (!Number.isFinite(b.value)) {
        parts.push(`<text x="${labelW + 4}" y="${by + barH - 3}" font-size="11" fill="#666">${esc(b.name)}: not measured</text>`);
        return;
      }
      parts.push(`<rect x="${labelW}" y="${by}" width="${(x(b.value) - labelW).toFixed(1)}" height="${barH}" fill="${b.color}"/>`);
      parts.push(`<text x="${(x(b.value) + 4).toFixed(1)}" y="${by + barH - 3}" font-size="11">${b.value.toFixed(2)}</text>`);
    });
    if (r.target !== undefined && Number.isFinite(r.target)) {
      const tx = x(r.target).toFixed(1);
      parts.push(`<line x1="${tx}" y1="${y - 2}" x2="${tx}" y2="${y + h + 2}" stroke="#c00" stroke-width="2" stroke-dasharray="3,2"/>`);
    }
    y += h + rowGap;
  }
  const height = y + legendH;
  const ticks: string[] = [];
  for (let v = 0; v <= maxV + 1e-9; v += 0.25) {
    const tx = x(v).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${y - rowGap + 4}" stroke="${Math.abs(v - 1) < 1e-9 ? '#000' : '#ddd'}" stroke-width="${Math.abs(v - 1) < 1e-9 ? 1.5 : 1}"/>`);
    ticks.push(`<text x="${tx}" y="${top - 10}" text-anchor="middle" font-size="10" fill="#444">${v.toFixed(2)}</text>`);
  }
  // Legend entries side by side from the left margin, each as wide as its text (~6 px a character at 11 px).
  const names = rows[0]?.bars ?? [];
  let lx = 12;
  const legend = names
    .map((b) => {
      const item = `<rect x="${lx}" y="${y + 4}" width="12" height="12" fill="${b.color}"/><text x="${lx + 16}" y="${y + 14}" font-size="11">${esc(b.name)}</text>`;
      lx += 16 + b.name.length * 6 + 20;
      return item;
    })
    .join('');
  const targetLegend = `<line x1="${lx}" y1="${y + 4}" x2="${lx}" y2="${y + 16}" stroke="#c00" stroke-width="2" stroke-dasharray="3,2"/><text x="${lx + 6}" y="${y + 14}" font-size="11">issue 6 target</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 60}" height="${height}" viewBox="0 0 ${labelW + plotW + 60} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="12" y="38" font-size="11" fill="#444">${esc(subtitle)}</text>`,
    ...ticks,
    ...parts,
    legend,
    targetLegend,
    '</svg>',
    '',
  ].join('\n');
}
