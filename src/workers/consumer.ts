// The stream consumer: one consumer group over every project's stream of one kind (events;
// receipt changes), found through a registry (a Redis set of project ids the producers add to). It reads many streams per XREADGROUP, hands each
// project's entries to the pipeline, and acknowledges what was stored. At-least-once: an entry
// is acknowledged only after its rows are committed; entries left pending by a dead consumer are
// taken over once idle (XAUTOCLAIM); an entry that failed `maxAttempts` deliveries goes to the
// project's dead-letter stream. Streams are trimmed only below the oldest pending entry.
import { hostname } from 'node:os';
import type { ChainableCommander, Redis } from 'ioredis';
import { randomBase62 } from '../core/crypto.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { RedisKeys } from '../core/redis.js';
import { entryIdentity } from '../domain/events.js';
import type { EntryResult, StreamEntry } from './pipeline.js';

export const CONSUMER_GROUP = 'tocsin';

/** Which streams a consumer reads. */
export interface StreamSource {
  /** The set of project ids that have such a stream. */
  registry: string;
  stream(projectId: string): string;
  deadLetter(projectId: string): string;
  /** Added to the transaction that acknowledges entries done (e.g. clearing marks). */
  settle?(tx: ChainableCommander, projectId: string, done: readonly StreamEntry[]): void;
}

/** The event streams ingest appends to; an event's `queued` mark goes with its entry. */
export const eventStreams = (keys: RedisKeys): StreamSource => ({
  registry: keys.activeStreams(),
  stream: keys.projectStream,
  deadLetter: keys.deadLetterStream,
  settle(tx, projectId, done) {
    for (const { fields } of done) {
      const eventId = entryIdentity(fields).id;
      if (eventId) tx.del(keys.queuedEvent(projectId, eventId));
    }
  },
});

export interface ConsumerOptions {
  maxAttempts: number;
  claimIdleMs: number;
  batchSize?: number;
  blockMs?: number;
  trimEveryMs?: number;
  /** Consumers idle this long with nothing pending (gone processes) are removed from the group. */
  staleConsumerMs?: number;
  /** Defaults to host-pid-random: unique per process. */
  name?: string;
}

export interface ConsumerDeps {
  /** For commands. */
  redis: Redis;
  /** A dedicated connection: XREADGROUP BLOCK holds it. */
  reader: Redis;
  source: StreamSource;
  log: Logger;
  /** Counts entries by outcome (processed, failed, dead_lettered). */
  processed: Metrics['eventsProcessed'];
  process(
    projectId: string,
    entries: StreamEntry[],
    options: { redelivered: boolean },
  ): Promise<EntryResult[]>;
  /** An entry failed and will be retried (`final` false) or was dead-lettered (`final` true). */
  recordFailure(
    projectId: string,
    entry: StreamEntry,
    failure: { error: Error; attempts: number; final: boolean },
  ): Promise<void>;
  /** After the acknowledgement: these events are stored or dead-lettered (event streams only). */
  onSettled?(projectId: string, eventIds: string[]): Promise<void>;
}

export interface Consumer {
  name: string;
  /** Stops reading, lets the batch in hand finish, then resolves. */
  close(): Promise<void>;
}

type RawEntry = [id: string, fields: string[] | null];

const isBusyGroup = (err: unknown) => err instanceof Error && err.message.startsWith('BUSYGROUP');
const isNoGroup = (err: unknown) => err instanceof Error && err.message.startsWith('NOGROUP');

export function startConsumer(deps: ConsumerDeps, options: ConsumerOptions): Consumer {
  const { redis, reader, source, log } = deps;
  const name = options.name ?? `${hostname()}-${process.pid}-${randomBase62(6)}`;
  const batchSize = options.batchSize ?? 200;
  const blockMs = options.blockMs ?? 500;
  const trimEveryMs = options.trimEveryMs ?? 5_000;
  const staleConsumerMs = options.staleConsumerMs ?? 3_600_000;
  const claimEveryMs = Math.max(50, Math.min(options.claimIdleMs / 2, 5_000));
  const grouped = new Set<string>();
  const projectOfStream = new Map<string, string>();
  let stopping = false;
  let wake: (() => void) | undefined;

  async function streams(): Promise<string[]> {
    const projectIds = await redis.smembers(source.registry);
    for (const id of projectIds) projectOfStream.set(source.stream(id), id);
    const names = projectIds.map((id) => source.stream(id));
    for (const stream of names.filter((s) => !grouped.has(s))) {
      // From the start of the stream: events queued before any consumer ran are not skipped.
      await redis.xgroup('CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM').catch((err: unknown) => {
        if (!isBusyGroup(err)) throw err;
      });
      grouped.add(stream);
    }
    return names;
  }

  async function handle(stream: string, raw: RawEntry[], redelivered: boolean): Promise<void> {
    const projectId = projectOfStream.get(stream)!;
    // Entries trimmed or deleted while pending come back without fields: nothing to do.
    const gone = raw.filter(([, fields]) => fields === null).map(([id]) => id);
    const entries = raw
      .filter((e): e is [string, string[]] => e[1] !== null)
      .map(([entryId, fields]) => ({ entryId, fields }));
    const results = entries.length ? await deps.process(projectId, entries, { redelivered }) : [];
    const processed = results.filter((r) => r.ok).map((r) => r.entryId);
    deps.processed.inc({ project: projectId, outcome: 'processed' }, processed.length);
    const done = [...gone, ...processed];
    for (const result of results) {
      if (result.ok) continue;
      const entry = entries.find((e) => e.entryId === result.entryId)!;
      if (await deadLetterIfExhausted(stream, projectId, entry, result.error)) done.push(entry.entryId);
    }
    if (done.length === 0) return;
    const ack = redis.multi().xack(stream, CONSUMER_GROUP, ...done);
    const settledEntries = entries.filter((e) => done.includes(e.entryId));
    source.settle?.(ack, projectId, settledEntries);
    await ack.exec();
    const settled = deps.onSettled
      ? settledEntries.flatMap(({ fields }) => entryIdentity(fields).id ?? [])
      : [];
    if (deps.onSettled && settled.length) {
      // Waiting ingest callers and the console's live view hear it; it is at most once (a waiting
      // caller that misses it finds the event settled at its deadline).
      await deps
        .onSettled(projectId, settled)
        .catch((err: unknown) => log.warn({ err, projectId }, 'Could not announce settled events'));
    }
  }

  /** Records the failure; past the last attempt, moves the entry to the dead-letter stream. */
  async function deadLetterIfExhausted(stream: string, projectId: string, entry: StreamEntry, error: Error) {
    const pending = (await redis.xpending(stream, CONSUMER_GROUP, entry.entryId, entry.entryId, 1)) as Array<
      [string, string, number, number]
    >;
    const attempts = pending[0]?.[3] ?? options.maxAttempts;
    const final = attempts >= options.maxAttempts;
    deps.processed.inc({ project: projectId, outcome: final ? 'dead_lettered' : 'failed' });
    log.warn({ err: error, projectId, entryId: entry.entryId, attempts, final }, 'Event processing failed');
    await deps
      .recordFailure(projectId, entry, { error, attempts, final })
      .catch((err: unknown) =>
        log.error({ err, projectId, entryId: entry.entryId }, 'Could not record an event failure'),
      );
    if (final) {
      await redis.xadd(
        source.deadLetter(projectId),
        '*',
        ...entry.fields,
        'entryId',
        entry.entryId,
        'attempts',
        String(attempts),
        'error',
        error.message,
      );
    }
    return final;
  }

  async function readNew(names: string[]): Promise<void> {
    const reply = (await reader.xreadgroup(
      'GROUP',
      CONSUMER_GROUP,
      name,
      'COUNT',
      batchSize,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...names,
      ...names.map(() => '>'),
    )) as Array<[string, RawEntry[]]> | null;
    await Promise.all((reply ?? []).map(([stream, raw]) => handle(stream, raw, false)));
  }

  async function claimIdle(names: string[]): Promise<void> {
    await Promise.all(
      names.map(async (stream) => {
        const [, raw] = (await redis.xautoclaim(
          stream,
          CONSUMER_GROUP,
          name,
          options.claimIdleMs,
          '0-0',
          'COUNT',
          batchSize,
        )) as [string, RawEntry[], string[]];
        if (raw.length) await handle(stream, raw, true);
      }),
    );
  }

  /**
   * Removes entries below the oldest one still pending (or below the last delivered one), and
   * the group's consumers that are long gone and hold nothing.
   */
  async function trim(names: string[]): Promise<void> {
    for (const stream of names) {
      const consumers = (
        (await redis.xinfo('CONSUMERS', stream, CONSUMER_GROUP)) as Array<Array<string | number>>
      ).map(toRecord);
      for (const c of consumers) {
        if (c.name !== name && c.pending === 0 && Number(c.idle) >= staleConsumerMs) {
          await redis.xgroup('DELCONSUMER', stream, CONSUMER_GROUP, String(c.name));
        }
      }
      // The last delivered id is read first: anything delivered after it is above it.
      const groups = (await redis.xinfo('GROUPS', stream)) as Array<Array<string | number>>;
      const info = groups.map(toRecord).find((g) => g.name === CONSUMER_GROUP);
      const lastDelivered = info?.['last-delivered-id'];
      if (typeof lastDelivered !== 'string' || lastDelivered === '0-0') continue;
      const [count, oldest] = (await redis.xpending(stream, CONSUMER_GROUP)) as [number, string | null];
      await redis.xtrim(stream, 'MINID', count > 0 && oldest ? oldest : lastDelivered);
    }
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    let lastClaim = 0;
    let lastTrim = Date.now();
    let failures = 0;
    while (!stopping) {
      try {
        const names = await streams();
        if (names.length === 0) {
          await sleep(blockMs);
          continue;
        }
        await readNew(names);
        if (Date.now() - lastClaim >= claimEveryMs) {
          lastClaim = Date.now();
          await claimIdle(names);
        }
        if (Date.now() - lastTrim >= trimEveryMs) {
          lastTrim = Date.now();
          await trim(names);
        }
        failures = 0;
      } catch (err) {
        if (isNoGroup(err)) grouped.clear(); // a stream was deleted and recreated
        failures++;
        log.warn({ err: (err as Error).message, failures }, 'Consumer loop failed; retrying');
        await sleep(Math.min(100 * 2 ** failures, 5_000));
      }
    }
  })();

  return {
    name,
    async close() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}

/** A flat XINFO reply (`[field, value, …]`) as a record. */
export function toRecord(flat: Array<string | number>): Record<string, string | number> {
  const record: Record<string, string | number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = flat[i + 1]!;
  return record;
}
