// The import rules of eslint.config.js (docs/architecture.md, "Imports run downward only") fire:
// each forbidden import, linted as if it were a file at that place in the tree, is an error, and
// the modules the rules are written around (start.ts, the uWS adapter, the server) pass.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The `no-restricted-imports` messages ESLint gives `code` as the file at `path`. */
async function restricted(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    [
      'src/domain/probe.ts',
      "import { startGateway } from '../gateway/server.js';",
      /Domain and engine must not/,
    ],
    [
      'src/domain/alerting/probe.ts',
      "import { readQueueCounts } from '../../workers/backlog.js';",
      /Domain and engine must not/,
    ],
    [
      'src/domain/probe.ts',
      "import { createGatewayApi } from '../realtime/api.js';",
      /Domain and engine must not/,
    ],
    [
      'src/engine/probe.ts',
      "import { createPusherHttpApi } from '../realtime/http-api.js';",
      /Domain and engine must not/,
    ],
    ['src/core/probe.ts', "import { readSettings } from '../domain/settings.js';", /Core must not/],
    ['src/core/pusher/probe.ts', "export { createApp } from '../../http/app.js';", /Core must not/],
    [
      'src/http/routes/probe.ts',
      "import { startGateway } from '../../gateway/server.js';",
      /only src\/start.ts/,
    ],
    ['src/workers/probe.ts', "import type { Socket } from '../gateway/local.js';", /only src\/start.ts/],
    ['src/probe.ts', "import { startGateway } from './gateway/server.js';", /only src\/start.ts/],
    ['src/realtime/probe.ts', "import uWS from 'uWebSockets.js';", /Only src\/gateway\/uws.ts/],
    ['src/gateway/probe.ts', "import uWS from 'uWebSockets.js';", /Only src\/gateway\/uws.ts/],
    ['test/unit/probe.test.ts', "import uWS from 'uWebSockets.js';", /Only src\/gateway\/uws.ts/],
    [
      'src/domain/status.ts',
      "import { readQueueCounts } from '../workers/backlog.js';",
      /must not import from workers/,
    ],
  ])('%s: %s is refused', async (path, code, message) => {
    const messages = await restricted(path, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  it('lets the status report name the workers’ types, and the layers below import downward', async () => {
    expect(
      await restricted('src/domain/status.ts', "import type { StreamLag } from '../workers/backlog.js';"),
    ).toEqual([]);
    expect(
      await restricted('src/realtime/probe.ts', "import { readSettings } from '../domain/settings.js';"),
    ).toEqual([]);
    expect(
      await restricted('src/domain/probe.ts', "import { LIMITS } from '../core/pusher/protocol.js';"),
    ).toEqual([]);
  });

  it.each([
    'src/start.ts',
    'src/gateway/uws.ts',
    'src/gateway/server.ts',
    'src/http/app.ts',
    'src/domain/status.ts',
  ])('passes %s as it is', async (path) => {
    expect(await restricted(path, readFileSync(`${root}${path}`, 'utf8'))).toEqual([]);
  });
});
