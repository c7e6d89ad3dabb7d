// Application errors carry a stable code and an HTTP status; the HTTP layer maps them to
// `{ error: { code, message, requestId } }` and anything else to a generic 500.
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const unauthorized = (code: string, message: string) => new AppError(401, code, message);
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
/** Also used when a resource belongs to another tenant: never reveal that it exists. */
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const payloadTooLarge = (message: string) => new AppError(413, 'payload_too_large', message);
/** A request body over BODY_LIMIT_BYTES (or a route's own limit). */
export const bodyTooLarge = (limitBytes: number) =>
  payloadTooLarge(`The request body exceeds ${limitBytes} bytes`);
export const unavailable = (code: string, message: string) => new AppError(503, code, message);
