import { createHmac, randomBytes } from 'node:crypto';
import { Router } from 'express';
import type { ChartBlock } from '../../bot/core/message';
import { ErrorCode } from '../../bot/core/errors';
import { LruMap } from '../../bot/core/lru-map';
import { sendError } from '../../bot/server/http-errors';
import { chartPng } from '../chart-images';

/** Where chart pictures are served, under the server's public URL. */
export const CHART_PATH_PREFIX = '/charts/';
/** A sparkline PNG is 1–3 KB, so this many keep a few megabytes at most. */
export const DEFAULT_CHART_CAPACITY = 1000;
/** 128 bits of an HMAC, base64url: unguessable, so a chart link is as private as the message holding it. */
const CHART_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * Chart PNGs for chat platforms that fetch an image by URL rather than take it inline (Slack image blocks).
 * Kept in memory, least recently used first out: Slack fetches a picture once when the message is posted and
 * serves it from its own cache afterwards, so a chart dropped later, or lost in a restart, leaves nothing
 * broken in a conversation. Served without authentication, which is why ids are keyed hashes, not counters:
 * only someone who was shown the message can name the picture. The same chart gets the same id, so a
 * repeated question stores nothing new.
 */
export class ChartImageStore {
  private readonly images: LruMap<string, Buffer>;
  private readonly key = randomBytes(32);

  constructor(capacity = DEFAULT_CHART_CAPACITY) {
    this.images = new LruMap(capacity);
  }

  /** Renders and keeps the chart; returns its id. */
  put(chart: ChartBlock): string {
    const png = chartPng(chart);
    const id = createHmac('sha256', this.key).update(png).digest('base64url').slice(0, 22);
    this.images.set(id, png);
    return id;
  }

  get(id: string): Buffer | undefined {
    return CHART_ID.test(id) ? this.images.get(id) : undefined;
  }

  /** The chart's URL under `publicUrl`, the address where the platform reaches this server. */
  urlFor(publicUrl: string, chart: ChartBlock): string {
    return `${publicUrl.replace(/\/+$/, '')}${CHART_PATH_PREFIX}${this.put(chart)}.png`;
  }

  /** GET /charts/<id>.png */
  router(): Router {
    const router = Router();
    router.get(`${CHART_PATH_PREFIX}:file`, (req, res) => {
      const match = /^(.+)\.png$/.exec(req.params.file);
      const png = match ? this.get(match[1] as string) : undefined;
      if (!png)
        return sendError(
          res,
          404,
          ErrorCode.NotFound,
          'no such chart (charts are kept for a while, not forever)',
        );
      res.setHeader('content-type', 'image/png');
      // The id is the content's hash, so the picture behind a URL never changes.
      res.setHeader('cache-control', 'max-age=86400, immutable');
      res.end(png);
    });
    return router;
  }
}
