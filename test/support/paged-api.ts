import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A record the API serves. */
export interface ApiRecord {
  readonly id: string;
  readonly name: string;
  readonly [field: string]: unknown;
}

/** A scripted misbehaviour for one request. */
export type Fault =
  | { readonly status: number; readonly retryAfter?: string }
  /** The connection is cut before any response. */
  | { readonly destroy: true };

/** One request the API received, and what it answered. */
export interface ApiRequest {
  readonly cursor: string | undefined;
  readonly status: number | 'destroyed';
}

/**
 * A real HTTP API on 127.0.0.1 (node:http, a free port) that pages its records in id order:
 * `GET /customers?limit=N&cursor=<last id of the previous page>` answers
 * `{ items, nextCursor }`, `nextCursor` null on the last page. Records can be changed between runs,
 * and faults scripted: the next requests answer with them in turn, or `faultFor` picks per request.
 */
export interface PagedApi {
  /** The first page's URL. */
  readonly url: string;
  readonly records: Map<string, ApiRecord>;
  readonly requests: ApiRequest[];
  /** Faults for the next requests, in order. */
  readonly faults: Fault[];
  /** A fault for a given request (after `faults` is empty), or undefined to answer normally. */
  faultFor?: (cursor: string | undefined) => Fault | undefined;
  /** Called on each request before it is answered (to move a test clock, or hold a request). */
  onRequest?: (cursor: string | undefined) => void | Promise<void>;
  close(): Promise<void>;
}

/** `count` records `c-001`, `c-002`, ... */
export function customers(count: number, from = 1): ApiRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(from + i).padStart(3, '0');
    return { id: `c-${n}`, name: `Customer ${n}`, address: { city: 'Oslo', lines: [`${n} Main St`] } };
  });
}

export async function startPagedApi(options: {
  records: readonly ApiRecord[];
  pageSize: number;
}): Promise<PagedApi> {
  const records = new Map(options.records.map((record) => [record.id, record]));
  const requests: ApiRequest[] = [];
  const faults: Fault[] = [];

  const api: PagedApi = {
    url: '',
    records,
    requests,
    faults,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const cursor = url.searchParams.get('cursor') ?? undefined;
    await api.onRequest?.(cursor);
    const fault = faults.shift() ?? api.faultFor?.(cursor);
    if (fault && 'destroy' in fault) {
      requests.push({ cursor, status: 'destroyed' });
      request.socket.destroy();
      return;
    }
    if (fault) {
      requests.push({ cursor, status: fault.status });
      response.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }),
      });
      response.end(JSON.stringify({ error: `scripted ${fault.status}` }));
      return;
    }
    if (url.pathname !== '/customers') {
      requests.push({ cursor, status: 404 });
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such path"}');
      return;
    }
    const limit = Number(url.searchParams.get('limit') ?? options.pageSize);
    const sorted = [...records.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const after = sorted.filter((record) => cursor === undefined || record.id > cursor);
    const items = after.slice(0, limit);
    const nextCursor = after.length > limit ? (items.at(-1)?.id ?? null) : null;
    requests.push({ cursor, status: 200 });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ items, nextCursor }));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (api as { url: string }).url = `http://127.0.0.1:${port}/customers?limit=${options.pageSize}`;
  return api;
}
