import type { ChartBlock } from '../bot/core/message';
import { sparklinePng, sparklineSvg, sparklineText } from './charts/sparkline';

/** Chart sizes in chat: a sparkline beside text, not a dashboard. */
const CHART_WIDTH = 320;
const CHART_HEIGHT = 64;

/** The chart as an SVG data URI: the web widget shows it in an <img>, where an SVG cannot run script. */
export function chartSvgDataUri(chart: ChartBlock): string {
  const svg = sparklineSvg(values(chart), {
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    label: chart.title,
    rangeLabels: { min: chart.summary.min, max: chart.summary.max },
  });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/** The chart as a PNG: what opsbot serves at a URL for surfaces that fetch images themselves (Slack). */
export function chartPng(chart: ChartBlock): Buffer {
  return sparklinePng(values(chart), { width: CHART_WIDTH, height: CHART_HEIGHT });
}

/** The chart as a PNG data URI, for surfaces that show raster images inline (Teams cards). */
export function chartPngDataUri(chart: ChartBlock): string {
  return `data:image/png;base64,${chartPng(chart).toString('base64')}`;
}

/** "▁▂▅▇▆ now 42 ms (min 30 ms, max 120 ms)": for terminals and any surface without images. */
export function chartLine(chart: ChartBlock): string {
  return `${sparklineText(values(chart))} now ${chart.summary.latest} (min ${chart.summary.min}, max ${chart.summary.max})`;
}

function values(chart: ChartBlock): number[] {
  return chart.points.map((p) => p.v);
}
