// Request/job context carried through async calls, so logs, audit rows and queue jobs know
// which request and which project they belong to without passing it by hand.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
  projectId?: string;
  /** The client's address, for audit rows and per-IP limits. */
  ip?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Records the project once it is resolved (API key, JWT, app key) for the rest of the request. */
export function setContextProject(projectId: string): void {
  const context = storage.getStore();
  if (context) context.projectId = projectId;
}
