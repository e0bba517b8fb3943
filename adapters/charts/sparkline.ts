import { crc32, deflateSync } from 'node:zlib';

export interface SparklineSvgOptions {
  width: number;
  height: number;
  /** Drawn above the line and used as the image's accessible name. */
  label?: string;
  /** Any SVG paint, e.g. "#2563eb". */
  stroke?: string;
  /**
   * The series' extremes as people read them ("42 ms", a ChartBlock's summary), written at the right edge
   * level with the line's top and bottom. Left out for an empty series.
   */
  rangeLabels?: { min: string; max: string };
}

export interface SparklinePngOptions {
  /** Whole pixels, at most {@link MAX_PNG_SIDE_PX}. */
  width: number;
  height: number;
  /** "#rrggbb". */
  stroke?: string;
}

/** Dark enough to read on white, blue enough not to look like an error. */
const DEFAULT_STROKE = '#2563eb';
const LINE_WIDTH_PX = 2;
/** A chat image, not a poster: bounds the raster a caller can make opsbot allocate. */
export const MAX_PNG_SIDE_PX = 4096;
/** Wider than this wraps on a phone in most chat clients. */
export const MAX_TEXT_SPARKLINE_CHARS = 40;
const TEXT_LEVELS = '▁▂▃▄▅▆▇█';
const FONT_SIZE_PX = 10;
const LABEL_BAND_PX = 14;
/** The average advance of a 10 px sans-serif digit, to leave room for the min/max labels without measuring. */
const CHAR_WIDTH_PX = 6;
const LABEL_GAP_PX = 4;
const BACKGROUND: Rgb = [255, 255, 255];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_BIT_DEPTH = 8;
const PNG_COLOR_TYPE_RGBA = 6;
const BYTES_PER_PIXEL = 4;
const PNG_FILTER_NONE = 0;

type Rgb = [number, number, number];
type Point = [x: number, y: number];

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A standalone SVG line chart of `values`; non-finite values are left out, an empty series draws no line. */
export function sparklineSvg(values: number[], options: SparklineSvgOptions): string {
  const { width, height, label } = options;
  if (!(width > 0 && height > 0)) throw new RangeError('a sparkline needs a positive width and height');
  const series = values.filter(Number.isFinite);
  const range = series.length > 0 ? options.rangeLabels : undefined;
  const gutter = range ? Math.max(range.min.length, range.max.length) * CHAR_WIDTH_PX + LABEL_GAP_PX : 0;
  const top = label ? LABEL_BAND_PX : 0;
  const box = insetBox(0, top, width - gutter, height - top);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" role="img"${label ? ` aria-label="${escapeXml(label)}"` : ''}>`,
  ];
  if (label) {
    parts.push(`<title>${escapeXml(label)}</title>`);
    parts.push(
      `<text x="0" y="${FONT_SIZE_PX}" font-family="sans-serif" font-size="${FONT_SIZE_PX}">${escapeXml(label)}</text>`,
    );
  }
  const points = plot(series, box);
  if (points.length > 0) {
    parts.push(
      `<polyline fill="none" stroke="${escapeXml(options.stroke ?? DEFAULT_STROKE)}" stroke-width="${LINE_WIDTH_PX}" stroke-linejoin="round" stroke-linecap="round" points="${points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ')}"/>`,
    );
  }
  if (range) {
    const anchor = `x="${num(width)}" text-anchor="end" font-family="sans-serif" font-size="${FONT_SIZE_PX}"`;
    parts.push(`<text ${anchor} y="${num(top + FONT_SIZE_PX)}">${escapeXml(range.max)}</text>`);
    parts.push(`<text ${anchor} y="${num(height)}">${escapeXml(range.min)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * A PNG line chart of `values`: RGBA, the line anti-aliased and about 2 px thick on an opaque white
 * background, which reads in both light and dark chat themes.
 */
export function sparklinePng(values: number[], options: SparklinePngOptions): Buffer {
  const { width, height } = options;
  for (const side of [width, height]) {
    if (!Number.isInteger(side) || side < 1 || side > MAX_PNG_SIDE_PX) {
      throw new RangeError(`a PNG sparkline's sides are whole pixels from 1 to ${MAX_PNG_SIDE_PX}`);
    }
  }
  const color = parseHexColor(options.stroke ?? DEFAULT_STROKE);
  const points = plot(values.filter(Number.isFinite), insetBox(0, 0, width, height));
  const coverage = new Float32Array(width * height);
  for (let i = 1; i < points.length; i++) {
    strokeSegment(coverage, width, height, points[i - 1]!, points[i]!);
  }
  const stride = 1 + width * BYTES_PER_PIXEL;
  const raster = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    raster[y * stride] = PNG_FILTER_NONE;
    for (let x = 0; x < width; x++) {
      const alpha = coverage[y * width + x]!;
      const offset = y * stride + 1 + x * BYTES_PER_PIXEL;
      for (let c = 0; c < 3; c++) {
        raster[offset + c] = Math.round(BACKGROUND[c]! + (color[c]! - BACKGROUND[c]!) * alpha);
      }
      raster[offset + 3] = 255;
    }
  }
  return encodePng(width, height, raster);
}

/**
 * A one-line chart of block characters, ▁ lowest to █ highest, for chats without images. Longer series are
 * averaged down to {@link MAX_TEXT_SPARKLINE_CHARS} characters; a flat series is a row of ▄.
 */
export function sparklineText(values: number[]): string {
  const series = downsample(values.filter(Number.isFinite), MAX_TEXT_SPARKLINE_CHARS);
  if (series.length === 0) return '';
  const { min, max } = extent(series);
  const top = TEXT_LEVELS.length - 1;
  return series
    .map((v) => TEXT_LEVELS[max === min ? Math.floor(top / 2) : Math.round(((v - min) / (max - min)) * top)])
    .join('');
}

/** The box inside a rectangle that keeps a stroke of the line width from being clipped at the edges. */
function insetBox(left: number, top: number, width: number, height: number): Box {
  return {
    left: left + LINE_WIDTH_PX,
    top: top + LINE_WIDTH_PX,
    width: Math.max(width - 2 * LINE_WIDTH_PX, 0),
    height: Math.max(height - 2 * LINE_WIDTH_PX, 0),
  };
}

/**
 * Values spread evenly across the box, the maximum at its top and the minimum at its bottom. A flat series
 * runs through the middle, having no range to scale; a single value is drawn as a level line across the box.
 */
function plot(values: number[], box: Box): Point[] {
  if (values.length === 0) return [];
  const { min, max } = extent(values);
  const y = (v: number) =>
    max === min ? box.top + box.height / 2 : box.top + ((max - v) / (max - min)) * box.height;
  if (values.length === 1) return [box.left, box.left + box.width].map((x): Point => [x, y(values[0]!)]);
  return values.map((v, i): Point => [box.left + (i * box.width) / (values.length - 1), y(v)]);
}

/**
 * Raises each pixel's coverage to how much of it a segment `LINE_WIDTH_PX` wide covers, estimated from the
 * distance of its centre to the segment: full within the half-width, fading to nothing over one pixel.
 */
function strokeSegment(coverage: Float32Array, width: number, height: number, a: Point, b: Point): void {
  const reach = LINE_WIDTH_PX / 2 + 1;
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - reach));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(a[0], b[0]) + reach));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - reach));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(a[1], b[1]) + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = distanceToSegment([x + 0.5, y + 0.5], a, b);
      const covered = Math.min(1, Math.max(0, LINE_WIDTH_PX / 2 + 0.5 - d));
      const i = y * width + x;
      if (covered > coverage[i]!) coverage[i] = covered;
    }
  }
}

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const lengthSquared = dx * dx + dy * dy;
  const t =
    lengthSquared === 0
      ? 0
      : Math.min(1, Math.max(0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / lengthSquared));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

function encodePng(width: number, height: number, raster: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = PNG_BIT_DEPTH;
  header[9] = PNG_COLOR_TYPE_RGBA;
  // Bytes 10–12: deflate compression, adaptive filtering, no interlace — the only values PNG defines.
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raster)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Length, type, data and the CRC-32 of type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const typeBytes = Buffer.from(type, 'ascii');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  typeBytes.copy(chunk, 4);
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(data, crc32(typeBytes)), 8 + data.length);
  return chunk;
}

function parseHexColor(color: string): Rgb {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!match) throw new RangeError(`PNG sparkline colours are #rrggbb, not ${JSON.stringify(color)}`);
  return [parseInt(match[1]!, 16), parseInt(match[2]!, 16), parseInt(match[3]!, 16)];
}

/** Means of consecutive runs, so at most `limit` values keep the series' shape. */
function downsample(values: number[], limit: number): number[] {
  if (values.length <= limit) return values;
  return Array.from({ length: limit }, (_, i) => {
    const run = values.slice(
      Math.floor((i * values.length) / limit),
      Math.floor(((i + 1) * values.length) / limit),
    );
    return run.reduce((total, v) => total + v, 0) / run.length;
  });
}

/** Minimum and maximum by a loop: spreading a long series into Math.min would overflow the stack. */
function extent(values: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Coordinates to two decimals: finer is invisible and only makes the SVG longer. */
function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Markup characters as references; control characters, which XML 1.0 forbids even escaped, as spaces. */
function escapeXml(text: string): string {
  return text.replace(/\p{Cc}/gu, ' ').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
