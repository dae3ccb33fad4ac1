import { groupCases } from './report.js';
import type { BenchResult } from './suite-runner.js';

const COLORS = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#64748b'];

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal grouped bar chart as SVG: one group per case, one bar per subject, each bar's length
 * relative to the best in its case (units differ between cases), labelled with the measured value.
 * Hand-written: a few dozen lines of SVG, where a chart library would need a browser or canvas.
 */
export function renderChart(results: readonly BenchResult[]): string {
  const rows = groupCases(results);
  const subjects = [...new Set(rows.flatMap((r) => [...r.values.keys()]))];
  const color = (s: string) => COLORS[subjects.indexOf(s) % COLORS.length]!;
  const barHeight = 14;
  const labelWidth = 320;
  const plotWidth = 420;
  const width = labelWidth + plotWidth + 160;
  const legendHeight = 30;
  let y = legendHeight + 10;
  const parts: string[] = [];
  for (const row of rows) {
    const entries = [...row.values];
    const best = row.higherIsBetter ? Math.max(...entries.map(([, v]) => v)) : Math.min(...entries.map(([, v]) => v));
    parts.push(
      `<text x="4" y="${y + barHeight}" font-size="12" font-weight="bold">${escapeXml((row.name === row.suite ? row.name : `${row.suite}: ${row.name}`).slice(0, 52))}</text>`,
    );
    for (const [subject, value] of entries) {
      const share = best === 0 || value === 0 ? 0 : row.higherIsBetter ? value / best : best / value;
      const w = Math.max(1, Math.round(share * plotWidth));
      parts.push(
        `<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight - 2}" fill="${color(subject)}"><title>${escapeXml(`${subject}: ${value} ${row.unit}`.trim())}</title></rect>`,
        `<text x="${labelWidth + w + 4}" y="${y + barHeight - 3}" font-size="11">${escapeXml(`${Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3)} ${row.unit}`.trim())}</text>`,
      );
      y += barHeight;
    }
    y += 10;
  }
  const legend = subjects.map(
    (s, i) =>
      `<rect x="${4 + i * 130}" y="8" width="12" height="12" fill="${color(s)}"/><text x="${20 + i * 130}" y="18" font-size="12">${escapeXml(s)}</text>`,
  );
  const height = Math.max(y + 10, 80);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<title>Spillway against its peers, each bar relative to the best in its case (bench/RESULTS.md)</title>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...legend,
    ...(rows.length === 0 ? ['<text x="4" y="60" font-size="12">no results</text>'] : parts),
    '</svg>',
    '',
  ].join('\n');
}
