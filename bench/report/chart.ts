/** One panel of bars: a title, and a value per system. */
export interface BarPanel {
  readonly title: string;
  readonly bars: readonly { readonly label: string; readonly value: number; readonly text: string }[];
}

const WIDTH = 760;
const LABEL_WIDTH = 150;
const VALUE_WIDTH = 90;
const BAR_HEIGHT = 22;
const GAP = 8;
const PANEL_TITLE = 30;
const COLOURS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b7791f', '#4a5568', '#c53030'];

/**
 * A plain SVG of horizontal bar charts, one panel under another, each scaled to its own largest value.
 *
 * @example
 * ```ts
 * const svg = barChartSvg('Throughput', [{ title: 'events/s', bars: [{ label: 'sluice', value: 1200, text: '1,200' }] }]);
 * ```
 */
export function barChartSvg(title: string, panels: readonly BarPanel[]): string {
  const parts: string[] = [];
  let y = 10;
  for (const panel of panels) {
    parts.push(
      `<text x="10" y="${y + 18}" font-size="15" font-weight="bold">${escapeXml(panel.title)}</text>`,
    );
    y += PANEL_TITLE;
    const largest = Math.max(...panel.bars.map((bar) => bar.value), Number.MIN_VALUE);
    panel.bars.forEach((bar, index) => {
      const length = Math.max(1, ((WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20) * bar.value) / largest);
      const colour = COLOURS[index % COLOURS.length];
      parts.push(
        `<text x="${LABEL_WIDTH - 6}" y="${y + 16}" font-size="13" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
        `<text x="${(LABEL_WIDTH + length + 6).toFixed(1)}" y="${y + 16}" font-size="13">${escapeXml(bar.text)}</text>`,
      );
      y += BAR_HEIGHT + GAP;
    });
    y += GAP * 2;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
