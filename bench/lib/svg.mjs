// A small SVG writer for the benchmark report: horizontal bar charts (grouped, with a
// whisker) and stacked bars. Plain SVG 1.1 with inline attributes only, so the files render
// as images in a browser and on a repository page (no scripts, no external fonts or CSS).

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const FONT = 'font-family="Helvetica,Arial,sans-serif"';

/** A "nice" axis maximum and tick step for values up to `max`. */
function axis(max) {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function frame(width, height, title, body) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold" fill="#222">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function gridLines(x0, plotW, y0, y1, ax, unit) {
  const out = [];
  // Tick labels with as many decimals as the step needs (0, 25, 50 / 0.5, 1.0 / 0.25, 0.50).
  const decimals = Math.max(0, -Math.floor(Math.log10(ax.step) + 1e-9) + (Number.isInteger(ax.step * 10 ** -Math.floor(Math.log10(ax.step))) ? 0 : 1));
  for (let i = 0; i * ax.step <= ax.top + 1e-9; i++) {
    const v = i * ax.step;
    const x = x0 + (v / ax.top) * plotW;
    out.push(`<line x1="${x.toFixed(1)}" y1="${y0}" x2="${x.toFixed(1)}" y2="${y1}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${y1 + 14}" text-anchor="middle" fill="#555">${esc(v.toFixed(decimals))}</text>`);
  }
  out.push(`<text x="${x0 + plotW + 24}" y="${y1 + 14}" text-anchor="start" fill="#555">${esc(unit)}</text>`);
  return out;
}

function legendRow(items, x, y, maxW) {
  const out = [];
  let cx = x;
  let cy = y;
  for (const it of items) {
    const w = 18 + it.label.length * 6.6 + 14;
    if (cx + w > x + maxW) {
      cx = x;
      cy += 18;
    }
    out.push(`<rect x="${cx.toFixed(1)}" y="${cy - 10}" width="12" height="12" fill="${it.color}"/>`);
    out.push(`<text x="${(cx + 17).toFixed(1)}" y="${cy}" fill="#333">${esc(it.label)}</text>`);
    cx += w;
  }
  return { svg: out, height: cy - y + 18 };
}

/**
 * Grouped horizontal bars.
 * groups: [{ label, bars: [{ label, value, lo?, hi?, color, note? }] }]; whisker from lo to hi.
 */
export function barChart({ title, groups, unit = 'ms', width = 880, legend = [], caption }) {
  const labelW = 250;
  const x0 = labelW + 10;
  const plotW = width - x0 - 90;
  const barH = 16;
  const gap = 4;
  const groupGap = 14;
  const max = Math.max(0, ...groups.flatMap((g) => g.bars.map((b) => Math.max(b.value ?? 0, b.hi ?? 0))));
  const ax = axis(max);
  const body = [];
  let y = 44;
  const lg = legendRow(legend, 12, y, width - 24);
  if (legend.length) {
    body.push(...lg.svg);
    y += lg.height + 4;
  }
  const top = y;
  for (const g of groups) {
    body.push(`<text x="12" y="${y + 12}" font-weight="bold" fill="#222">${esc(g.label)}</text>`);
    y += 18;
    for (const b of g.bars) {
      body.push(`<text x="${labelW}" y="${y + barH - 4}" text-anchor="end" fill="#333">${esc(b.label)}</text>`);
      if (b.value === undefined || b.value === null) {
        body.push(`<text x="${x0 + 4}" y="${y + barH - 4}" fill="#999" font-style="italic">${esc(b.note ?? 'not available')}</text>`);
      } else {
        const w = Math.max(1, (b.value / ax.top) * plotW);
        body.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.color}"/>`);
        if (b.lo !== undefined && b.hi !== undefined) {
          const xl = x0 + (b.lo / ax.top) * plotW;
          const xh = x0 + (b.hi / ax.top) * plotW;
          const ym = y + barH / 2;
          body.push(`<line x1="${xl.toFixed(1)}" y1="${ym}" x2="${xh.toFixed(1)}" y2="${ym}" stroke="#222" stroke-width="1"/>`);
          body.push(`<line x1="${xl.toFixed(1)}" y1="${ym - 4}" x2="${xl.toFixed(1)}" y2="${ym + 4}" stroke="#222"/>`);
          body.push(`<line x1="${xh.toFixed(1)}" y1="${ym - 4}" x2="${xh.toFixed(1)}" y2="${ym + 4}" stroke="#222"/>`);
        }
        const tx = x0 + Math.max(w, b.hi !== undefined ? (b.hi / ax.top) * plotW : 0) + 6;
        body.push(`<text x="${tx.toFixed(1)}" y="${y + barH - 4}" fill="#222">${esc(fmt(b.value))}${b.note ? ` ${esc(b.note)}` : ''}</text>`);
      }
      y += barH + gap;
    }
    y += groupGap;
  }
  const grid = gridLines(x0, plotW, top, y - groupGap + 2, ax, unit);
  y += 24;
  for (const line of caption ? [].concat(caption) : []) {
    body.push(`<text x="12" y="${y}" fill="#555">${esc(line)}</text>`);
    y += 16;
  }
  return frame(width, y, title, [...grid, ...body]);
}

/**
 * Stacked horizontal bars. rows: [{ label, segments: [{ key, value }], note? }];
 * keys: [{ key, label, color }] in stacking order (also the legend).
 */
export function stackedChart({ title, rows, keys, unit = 'ms', width = 880, caption }) {
  const labelW = 220;
  const x0 = labelW + 10;
  const plotW = width - x0 - 70;
  const barH = 22;
  const gap = 10;
  const totals = rows.map((r) => r.segments.reduce((a, s) => a + Math.max(0, s.value ?? 0), 0));
  const ax = axis(Math.max(0, ...totals));
  const color = new Map(keys.map((k) => [k.key, k.color]));
  const body = [];
  let y = 44;
  const used = new Set(rows.flatMap((r) => r.segments.filter((s) => s.value > 0).map((s) => s.key)));
  const lg = legendRow(keys.filter((k) => used.has(k.key)), 12, y, width - 24);
  body.push(...lg.svg);
  y += lg.height + 6;
  const top = y;
  rows.forEach((r, i) => {
    body.push(`<text x="${labelW}" y="${y + barH - 7}" text-anchor="end" fill="#333">${esc(r.label)}</text>`);
    let x = x0;
    for (const s of r.segments) {
      if (!(s.value > 0)) continue;
      const w = (s.value / ax.top) * plotW;
      body.push(`<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${barH}" fill="${color.get(s.key) ?? '#999'}"><title>${esc(`${s.key}: ${fmt(s.value)} ${unit}`)}</title></rect>`);
      if (w > 34) body.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y + barH - 7}" text-anchor="middle" fill="#fff" font-size="10">${esc(fmt(s.value))}</text>`);
      x += w;
    }
    body.push(`<text x="${(x + 6).toFixed(1)}" y="${y + barH - 7}" fill="#222">${esc(fmt(totals[i]))}${r.note ? ` ${esc(r.note)}` : ''}</text>`);
    y += barH + gap;
  });
  const grid = gridLines(x0, plotW, top - 4, y - gap + 4, ax, unit);
  y += 28;
  for (const line of caption ? [].concat(caption) : []) {
    body.push(`<text x="12" y="${y}" fill="#555">${esc(line)}</text>`);
    y += 16;
  }
  return frame(width, y, title, [...grid, ...body]);
}
