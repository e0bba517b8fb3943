import WebSocket from 'ws';

/** A WebSocket client that queues frames so a test can await them in order. */
export async function connectWs(
  url: string,
): Promise<{ ws: WebSocket; next(): Promise<any>; close(): void }> {
  const ws = new WebSocket(url);
  const frames: any[] = [];
  const waiters: ((frame: any) => void)[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    next: () =>
      frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiters.push(resolve)),
    close: () => ws.close(),
  };
}
