// pino logger. Every line carries the request and project id of the current context; known
// secret-bearing fields are redacted wherever they appear. JSON lines, except for a person at a
// terminal in development (pino-pretty).
import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';
import { currentContext } from './context.js';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'secret',
  'authorization',
  'cookie',
  'x-api-key',
  'tokenHash',
  'apiKeyHash',
  'gatewaySecret',
  'gatewaySecretEnc',
  'secretsEnc',
  'privateKey',
  'auth_signature',
];

/** Redaction paths: each secret key at the top level and up to two objects deep. */
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
  return [segment.replace(/^\./, ''), `*${segment}`, `*.*${segment}`];
});

export function createLogger(
  options: { level: string; name?: string },
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level,
      name: options.name ?? 'tocsin',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin() {
        const context = currentContext();
        return context ? { requestId: context.requestId, projectId: context.projectId } : {};
      },
    },
    destination,
  );
}

type PrettyPrinter = (options: Record<string, unknown>) => DestinationStream;

/** pino-pretty, or undefined where devDependencies are not installed (a production image). */
export function loadPinoPretty(): PrettyPrinter | undefined {
  try {
    return createRequire(import.meta.url)('pino-pretty') as PrettyPrinter;
  } catch {
    return undefined;
  }
}

/**
 * Readable, coloured lines when a person watches: development and stdout a terminal. Undefined
 * otherwise, or without pino-pretty: pino's JSON on stdout.
 */
export function prettyOutput(
  when: { env: string; isTTY: boolean | undefined },
  load = loadPinoPretty,
  to: NodeJS.WritableStream | number = 1,
): DestinationStream | undefined {
  if (when.env !== 'development' || !when.isTTY) return undefined;
  return load()?.({
    destination: to,
    colorize: to === 1,
    ignore: 'pid,hostname',
    translateTime: 'SYS:HH:MM:ss.l',
  });
}
