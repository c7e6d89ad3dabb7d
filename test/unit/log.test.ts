import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runWithContext, setContextProject } from '../../src/core/context.js';
import { createLogger, loadPinoPretty, prettyOutput } from '../../src/core/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: createLogger({ level: 'info' }, stream), lines };
}

describe('logger', () => {
  it('redacts secrets at the top level and nested', () => {
    const { log, lines } = capture();
    log.info(
      {
        password: 'hunter2-password',
        apiKey: 'tk_live_secret',
        user: { passwordHash: '$2a$12$hash', refreshToken: 'refresh-secret' },
        req: { headers: { authorization: 'Bearer jwt-secret', 'x-api-key': 'tk_header_secret' } },
        visible: 'kept',
      },
      'login',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'hunter2-password',
      'tk_live_secret',
      '$2a$12$hash',
      'refresh-secret',
      'jwt-secret',
      'tk_header_secret',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ visible: 'kept', password: '[redacted]' });
  });

  it('stamps every line with the request and project of the current context', () => {
    const { log, lines } = capture();
    runWithContext({ requestId: 'req-1' }, () => {
      log.info('before');
      setContextProject('project-9');
      log.info('after');
    });
    log.info('outside');
    expect(lines[0]).toMatchObject({ requestId: 'req-1' });
    expect(lines[0]).not.toHaveProperty('projectId', 'project-9');
    expect(lines[1]).toMatchObject({ requestId: 'req-1', projectId: 'project-9' });
    expect(lines[2]).not.toHaveProperty('requestId');
  });
});

describe('log output', () => {
  const lines = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  };

  it('is pretty in development at a terminal, and JSON otherwise', () => {
    const printer = () => ((options: Record<string, unknown>) => options) as never;
    for (const [env, isTTY, pretty] of [
      ['development', true, true],
      ['development', false, false],
      ['development', undefined, false],
      ['production', true, false],
      ['test', true, false],
    ] as const) {
      expect([env, isTTY, prettyOutput({ env, isTTY }, printer) !== undefined]).toEqual([env, isTTY, pretty]);
    }
  });

  it('pretty-prints with pino-pretty, secrets still redacted', async () => {
    const out = lines();
    const log = createLogger(
      { level: 'info' },
      prettyOutput({ env: 'development', isTTY: true }, loadPinoPretty, out.stream),
    );
    log.info({ password: 'hunter2-password' }, 'hub started');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.text()).toMatch(/INFO.*: hub started/);
    expect(out.text()).toContain('[redacted]');
    expect(out.text()).not.toContain('hunter2-password');
    expect(() => JSON.parse(out.text())).toThrow();
  });

  it('falls back to JSON where pino-pretty is not installed (production images have no devDependencies)', () => {
    expect(prettyOutput({ env: 'development', isTTY: true }, () => undefined)).toBeUndefined();
    expect(loadPinoPretty()).toBeTypeOf('function');
  });
});
