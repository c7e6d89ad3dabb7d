// Runs `tocsin` as a real child process, for what only a process can show: signals, exit
// codes and what it prints. Every child is tracked, so a test file's afterEach/afterAll can kill
// what a failed or timed-out test left running (`stopChildren`).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { testEnv } from './env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port nothing listens on (for "server down" cases); servers under test listen on 0 instead. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TocsinProcess {
  child: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<TocsinProcess>();

/** Kills (-9) every child still running and waits for each to exit. */
export async function stopChildren(): Promise<void> {
  const running = [...children];
  for (const proc of running)
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await Promise.all(running.map((proc) => proc.exited));
}

/** The port a child's server bound (started with port 0), read from its "<what> listening" log line. */
export async function listeningPort(proc: TocsinProcess, what: 'API' | 'Gateway', timeoutMs?: number) {
  const line = await proc.waitForOutput(
    new RegExp(`\\{[^\\n]*"msg":"${what} listening"[^\\n]*\\}`),
    timeoutMs,
  );
  return (JSON.parse(line) as { port: number }).port;
}

/** `input`, when given, is piped to the command's stdin (then closed). */
export function runTocsin(args: string[], env: Record<string, string> = {}, input?: string): TocsinProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...testEnv(), LOG_LEVEL: 'info', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc: TocsinProcess = {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (!match) return;
          cleanup();
          resolve(match[0]);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Timed out waiting for ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`Process exited before printing ${pattern}; output:\n${output}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
  children.add(proc);
  void exited.then(() => children.delete(proc));
  return proc;
}
