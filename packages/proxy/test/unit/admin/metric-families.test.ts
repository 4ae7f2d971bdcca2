import { CounterFamily, HistogramFamily, renderExposition } from '../../../src/admin/metric-families';
import { histogramCount, parseExposition, sampleValue } from '../../../../../test/helpers/prometheus';

describe('renderExposition()', () => {
  it('escapes backslashes, quotes and newlines in label values so a parser reads them back unchanged', () => {
    const c = new CounterFamily('t_total', 'Help with a \\ backslash\nand a newline.', ['backend']);
    const hostile = 'a"b\\c\nd';
    c.inc([hostile], 2);
    c.inc(['plain']);
    const text = renderExposition([c.family()]);
    expect(text).toContain('# HELP t_total Help with a \\\\ backslash\\nand a newline.\n');
    const parsed = parseExposition(text);
    expect(parsed.get('t_total')?.metrics).toEqual([{ labels: { backend: hostile }, value: '2' }, { labels: { backend: 'plain' }, value: '1' }]);
  });

  it('writes a family with no samples as HELP and TYPE only', () => {
    expect(renderExposition([new CounterFamily('e_total', 'Empty.', ['x']).family()])).toBe('# HELP e_total Empty.\n# TYPE e_total counter\n');
  });
});

describe('CounterFamily', () => {
  it('keeps one cell per label combination, shared between inc() and cell()', () => {
    const c = new CounterFamily('c_total', 'C.', ['a', 'b']);
    const cell = c.cell(['1', '2']);
    cell.value += 5;
    c.inc(['1', '2']);
    c.inc(['1', '3'], 2);
    expect(c.get(['1', '2'])).toBe(6);
    expect(c.samples()).toEqual([{ labels: { a: '1', b: '2' }, value: 6 }, { labels: { a: '1', b: '3' }, value: 2 }]);
  });
});

describe('HistogramFamily', () => {
  it('renders cumulative buckets, +Inf, _sum and _count; a value on a bound falls in that bucket', () => {
    const h = new HistogramFamily('h_seconds', 'H.', ['backend'], [0.1, 1]);
    const observe = h.series(['a']);
    for (const s of [0.05, 0.1, 0.5, 3]) observe(s);
    h.observe(['b'], 0.2);
    const text = renderExposition([h.family()]);
    expect(text.split('\n').filter((l) => l.startsWith('h_seconds') && l.includes('"a"'))).toEqual([
      'h_seconds_bucket{backend="a",le="0.1"} 2',
      'h_seconds_bucket{backend="a",le="1"} 3',
      'h_seconds_bucket{backend="a",le="+Inf"} 4',
      'h_seconds_sum{backend="a"} 3.65',
      'h_seconds_count{backend="a"} 4',
    ]);
    expect(histogramCount(text, 'h_seconds', { backend: 'b' })).toBe(1);
    expect(parseExposition(text).get('h_seconds')?.type).toBe('HISTOGRAM');
    expect(sampleValue(parseExposition(renderExposition([new CounterFamily('x_total', 'X.', []).family()])), 'x_total')).toBe(0);
  });
});
