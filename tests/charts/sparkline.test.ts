import { crc32, inflateSync } from 'node:zlib';
import {
  MAX_PNG_SIDE_PX,
  MAX_TEXT_SPARKLINE_CHARS,
  sparklinePng,
  sparklineSvg,
  sparklineText,
} from '../../adapters/charts/sparkline';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Chunk {
  type: string;
  data: Buffer;
}

/** Splits a PNG into chunks, checking every CRC on the way. */
function chunks(png: Buffer): Chunk[] {
  const found: Chunk[] = [];
  let offset = PNG_SIGNATURE.length;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    expect(png.readUInt32BE(offset + 8 + length)).toBe(crc32(png.subarray(offset + 4, offset + 8 + length)));
    found.push({ type, data });
    offset += 12 + length;
  }
  return found;
}

/** Decodes the RGBA, unfiltered PNGs sparklinePng writes: pixel(x, y) → [r, g, b, a]. */
function decode(png: Buffer) {
  const all = chunks(png);
  const header = all[0]!.data;
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const raster = inflateSync(Buffer.concat(all.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const stride = 1 + width * 4;
  expect(raster.length).toBe(height * stride);
  for (let y = 0; y < height; y++) expect(raster[y * stride]).toBe(0);
  return {
    width,
    height,
    pixel: (x: number, y: number) => [...raster.subarray(y * stride + 1 + x * 4, y * stride + 1 + x * 4 + 4)],
  };
}

const isDark = ([r, g, b]: number[]) => r! + g! + b! < 3 * 160;
const WHITE = [255, 255, 255, 255];
/** The default stroke, #2563eb. */
const STROKE = [0x25, 0x63, 0xeb, 255];

describe('sparklinePng', () => {
  it('writes a valid PNG: signature, IHDR with the size, IDAT, IEND', () => {
    const png = sparklinePng([1, 3, 2, 5], { width: 120, height: 30 });
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const all = chunks(png);
    expect(all.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const header = all[0]!.data;
    expect(header).toHaveLength(13);
    expect(header.readUInt32BE(0)).toBe(120);
    expect(header.readUInt32BE(4)).toBe(30);
    expect([...header.subarray(8)]).toEqual([8, 6, 0, 0, 0]);
    expect(all[2]!.data).toHaveLength(0);
  });

  it('draws the line dark on a white background', () => {
    // Rising line from the bottom-left to the top-right corner of the inset box.
    const { width, height, pixel } = decode(sparklinePng([0, 10], { width: 100, height: 50 }));
    expect(pixel(0, 0)).toEqual(WHITE);
    expect(pixel(width - 1, height - 1)).toEqual(WHITE);
    expect(pixel(0, height - 1)).toEqual(WHITE);
    // Down the middle column the line crosses near the centre, fully covering a pixel in the stroke colour.
    const column = Array.from({ length: height }, (_, y) => pixel(50, y));
    const covered = column.findIndex((p) => p.join() === STROKE.join());
    expect(covered).toBeGreaterThanOrEqual(24);
    expect(covered).toBeLessThanOrEqual(26);
    expect(isDark(column[covered]!)).toBe(true);
    expect(column.filter((p) => p.join() !== WHITE.join()).length).toBeLessThanOrEqual(5);
    // Well off the line.
    expect(pixel(80, 40)).toEqual(WHITE);
    expect(pixel(20, 10)).toEqual(WHITE);
  });

  it('draws flat and single-value series as a level line through the middle', () => {
    for (const values of [[4, 4, 4], [7]]) {
      const { pixel } = decode(sparklinePng(values, { width: 40, height: 20 }));
      expect(isDark(pixel(20, 10))).toBe(true);
      expect(isDark(pixel(5, 9))).toBe(true);
      expect(pixel(20, 3)).toEqual(WHITE);
      expect(pixel(20, 16)).toEqual(WHITE);
    }
  });

  it('draws nothing for an empty series and ignores non-finite values', () => {
    const { width, height, pixel } = decode(sparklinePng([], { width: 10, height: 5 }));
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) expect(pixel(x, y)).toEqual(WHITE);
    expect(sparklinePng([NaN, 0, Infinity, 10], { width: 100, height: 50 })).toEqual(
      sparklinePng([0, 10], { width: 100, height: 50 }),
    );
  });

  it('uses the stroke colour and refuses bad sizes and colours', () => {
    const { pixel } = decode(sparklinePng([1, 1], { width: 40, height: 20, stroke: '#ff0000' }));
    expect(pixel(20, 10)).toEqual([255, 0, 0, 255]);
    expect(() => sparklinePng([1], { width: 0, height: 10 })).toThrow(RangeError);
    expect(() => sparklinePng([1], { width: 10.5, height: 10 })).toThrow(RangeError);
    expect(() => sparklinePng([1], { width: MAX_PNG_SIDE_PX + 1, height: 10 })).toThrow(RangeError);
    expect(() => sparklinePng([1], { width: 10, height: 10, stroke: 'red' })).toThrow(/#rrggbb/);
  });
});

describe('sparklineSvg', () => {
  const attribute = (svg: string, element: string, name: string) =>
    new RegExp(`<${element}\\b[^>]*\\b${name}="([^"]*)"`).exec(svg)?.[1];

  it('is a standalone SVG with a viewBox and a polyline of one point per value', () => {
    const svg = sparklineSvg([3, 1, 4, 1, 5, 9, 2], { width: 200, height: 40 });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*>.*<\/svg>$/s);
    expect(attribute(svg, 'svg', 'viewBox')).toBe('0 0 200 40');
    const points = attribute(svg, 'polyline', 'points')!
      .split(' ')
      .map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(7);
    const xs = points.map(([x]) => x!);
    const ys = points.map(([, y]) => y!);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThanOrEqual(200);
    // SVG's y grows downwards: the maximum (9) is highest, the minimum (1) lowest.
    expect(Math.min(...ys)).toBe(ys[5]);
    expect(Math.max(...ys)).toBe(ys[1]);
    expect(ys[1]).toBe(ys[3]);
    expect(Math.max(...ys)).toBeLessThanOrEqual(40);
    // Every tag is closed or self-closing.
    const opened = svg.match(/<[a-z]+\b[^>]*[^/]>/g) ?? [];
    const closed = svg.match(/<\/[a-z]+>/g) ?? [];
    expect(opened.length).toBe(closed.length);
  });

  it('escapes the label, the stroke and the min and max labels', () => {
    const svg = sparklineSvg([0.125, 0.5], {
      width: 200,
      height: 40,
      label: 'p95 <checkout> & "pay"\u0007',
      stroke: '"/><script>',
      rangeLabels: { min: '125 ms', max: '<500 ms>' },
    });
    expect(svg).not.toContain('<checkout>');
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('\u0007');
    expect(svg).toContain('<title>p95 &#60;checkout&#62; &#38; &#34;pay&#34; </title>');
    expect(svg).toContain('>&#60;500 ms&#62;</text>');
    expect(svg).toContain('>125 ms</text>');
    expect(attribute(svg, 'svg', 'aria-label')).toBe('p95 &#60;checkout&#62; &#38; &#34;pay&#34; ');
  });

  it('handles empty, single-value and flat series', () => {
    const empty = sparklineSvg([], { width: 100, height: 20, rangeLabels: { min: '0', max: '1' } });
    expect(empty).not.toContain('<polyline');
    expect(empty).not.toContain('<text');
    const single = attribute(sparklineSvg([5], { width: 100, height: 20 }), 'polyline', 'points')!;
    const flat = attribute(sparklineSvg([5, 5, 5], { width: 100, height: 20 }), 'polyline', 'points')!;
    expect(single).toBe('2,10 98,10');
    expect(flat).toBe('2,10 50,10 98,10');
  });
});

describe('sparklineText', () => {
  it('maps the lowest value to ▁ and the highest to █', () => {
    expect(sparklineText([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparklineText([10, 0, 5])).toBe('█▁▅');
  });

  it('downsamples long series to at most 40 characters, keeping the shape', () => {
    const ramp = Array.from({ length: 1000 }, (_, i) => i);
    const text = sparklineText(ramp);
    expect(text).toHaveLength(MAX_TEXT_SPARKLINE_CHARS);
    expect(text[0]).toBe('▁');
    expect(text.at(-1)).toBe('█');
    expect([...text]).toEqual([...text].sort());
    expect(sparklineText(Array.from({ length: 41 }, () => 1))).toHaveLength(MAX_TEXT_SPARKLINE_CHARS);
  });

  it('handles empty, single-value, flat and non-finite series', () => {
    expect(sparklineText([])).toBe('');
    expect(sparklineText([NaN])).toBe('');
    expect(sparklineText([42])).toBe('▄');
    expect(sparklineText([3, 3, 3])).toBe('▄▄▄');
    expect(sparklineText([0, NaN, 7])).toBe('▁█');
  });
});
