import { h, s } from './dom.js';

export interface Series {
  key: string;
  label: string;
  className: string;
}

/**
 * A per-minute chart drawn as SVG with the same numbers beside it in a table: screen readers and
 * tests read the table, people glance at the bars. `baseline` draws a dashed reference line.
 */
export function minuteChart(
  points: Array<Record<string, number | string>>,
  series: Series[],
  opts: { caption: string; baseline?: { value: number; label: string } },
): HTMLElement {
  const width = 560;
  const height = 180;
  const pad = 24;
  const max = Math.max(
    1,
    opts.baseline?.value ?? 0,
    ...points.flatMap((p) => series.map((x) => Number(p[x.key]) || 0)),
  );
  const slot = (width - pad) / Math.max(1, points.length);
  const bar = Math.max(1, (slot - 2) / series.length);
  const y = (v: number) => height - pad - (v / max) * (height - 2 * pad);
  const svg = s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': opts.caption,
      preserveAspectRatio: 'none',
    },
    s('line', { x1: pad, y1: height - pad, x2: width, y2: height - pad, class: 'axis' }),
    s('text', { x: 0, y: pad, class: 'tick' }, String(max)),
    s('text', { x: 0, y: height - pad, class: 'tick' }, '0'),
    points.map((p, i) =>
      series.map((x, j) => {
        const v = Number(p[x.key]) || 0;
        return s(
          'rect',
          { x: pad + i * slot + j * bar, y: y(v), width: bar, height: height - pad - y(v), class: x.className },
          s('title', {}, `${p.minute}: ${x.label} ${v}`),
        );
      }),
    ),
    opts.baseline
      ? s('line', { x1: pad, x2: width, y1: y(opts.baseline.value), y2: y(opts.baseline.value), class: 'baseline' })
      : null,
    points.length > 0
      ? s('text', { x: pad, y: height - 6, class: 'tick' }, String(points[0].minute).slice(11, 16))
      : null,
    points.length > 1
      ? s(
          'text',
          { x: width - 40, y: height - 6, class: 'tick' },
          String(points[points.length - 1].minute).slice(11, 16),
        )
      : null,
  );
  const legend = h(
    'p',
    { class: 'legend' },
    series.map((x) =>
      h('span', {}, h('span', { class: `swatch ${x.className}`, 'aria-hidden': 'true' }), ` ${x.label} `),
    ),
    opts.baseline
      ? h('span', {}, h('span', { class: 'swatch baseline', 'aria-hidden': 'true' }), ` ${opts.baseline.label}`)
      : null,
  );
  const table = h(
    'table',
    { class: 'chart-table' },
    h('caption', {}, opts.caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Minute (UTC)'),
        series.map((x) => h('th', { scope: 'col' }, x.label)),
      ),
    ),
    h(
      'tbody',
      {},
      points.map((p) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, String(p.minute).slice(11, 16)),
          series.map((x) => h('td', { class: 'num' }, String(p[x.key] ?? 0))),
        ),
      ),
    ),
  );
  return h('figure', { class: 'chart-box' }, h('div', {}, svg, legend), table);
}
