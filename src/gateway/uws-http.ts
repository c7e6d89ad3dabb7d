// Serves the transport-neutral Pusher HTTP API handler (realtime/http-api.ts) on uWS: reads the body
// chunk by chunk and refuses it with 413 as soon as it passes the limit (a declared
// Content-Length over it is refused before reading), gives up on a request the client aborted,
// and writes the answer corked, in one write.
import { STATUS_CODES } from 'node:http';
import { runWithContext } from '../core/context.js';
import { errorJson } from '../core/error-answer.js';
import { bodyTooLarge } from '../core/errors.js';
import { requestIdFrom } from '../core/ids.js';
import type { PusherAnswer, PusherHttpApi } from '../realtime/http-api.js';
import type { HttpRequest, HttpResponse } from './uws.js';

export function uwsHttpHandler(handle: PusherHttpApi, bodyLimitBytes: number) {
  return (res: HttpResponse, req: HttpRequest): void => {
    // `req` is only valid until this function returns: everything is read from it now.
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const requestId = requestIdFrom(req.getHeader('x-request-id') || undefined);
    const declaredLength = Number(req.getHeader('content-length') || 0);
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    let done = false;
    res.onAborted(() => void (done = true));

    /** `close`: the rest of a refused body is not read; the connection goes with it. */
    const reply = (answer: PusherAnswer, close = false) => {
      if (done) return;
      done = true;
      res.cork(() => {
        res.writeStatus(`${answer.status} ${STATUS_CODES[answer.status] ?? ''}`);
        res.writeHeader('X-Request-Id', requestId);
        for (const [name, value] of Object.entries(answer.headers)) res.writeHeader(name, value);
        res.end(answer.body, close);
      });
    };
    const run = (body: string) =>
      void runWithContext({ requestId, ip }, () => handle({ method, path, query, body, requestId })).then(
        (answer) => reply(answer),
      );
    const refuseBody = () => {
      const refused = bodyTooLarge(bodyLimitBytes);
      const body = JSON.stringify(errorJson(requestId, refused.code, refused.message));
      reply({ status: refused.status, headers: { 'Content-Type': 'application/json' }, body }, true);
    };

    if (method === 'GET' || method === 'HEAD') return run('');
    if (declaredLength > bodyLimitBytes) return refuseBody();
    const chunks: Buffer[] = [];
    let received = 0;
    res.onData((chunk, isLast) => {
      if (done) return;
      received += chunk.byteLength;
      if (received > bodyLimitBytes) return refuseBody();
      // uWS neuters the chunk once this returns: keep a copy.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) run(Buffer.concat(chunks).toString('utf8'));
    });
  };
}
