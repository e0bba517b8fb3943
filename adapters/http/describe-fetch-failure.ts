/** Why a fetch() failed, in the words an on-call engineer reads: "connection refused", "timed out after 2000 ms". */
export function describeFetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return describeSocketErrorCode(e.cause?.code) ?? `request failed: ${e.cause?.code ?? e.message}`;
}

/** A socket error code in those words; undefined for a code without plain words. */
export function describeSocketErrorCode(code: string | undefined): string | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return undefined;
  }
}
