// The single import point of uWebSockets.js (docs/architecture.md §4): swapping the binary's source
// is a one-line change here. The package silently falls back to a slow JS implementation when
// its native binary does not load; we refuse to run on that.
import uWS, { type ListenOptions } from 'uWebSockets.js';

if (!String(uWS.App).includes('[native code]')) {
  throw new Error(
    'uWebSockets.js native binary did not load (JS fallback active); use Node 20 on linux/darwin x64/arm64',
  );
}

/** The typings declare this as an enum member; the binary exports it as a plain constant. */
export const LISTEN_EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: ListenOptions })
  .LIBUS_LISTEN_EXCLUSIVE_PORT;

export default uWS;
export type { WebSocket, TemplatedApp, us_listen_socket, HttpResponse, HttpRequest } from 'uWebSockets.js';
