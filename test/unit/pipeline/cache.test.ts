import { describe, expect, it } from 'vitest';
import { createVersionedCache } from '../../../src/engine/cache.js';

function setup(checkEveryMs = 1_000) {
  let clock = 0;
  let version = 1;
  let loads = 0;
  let versionReads = 0;
  const cache = createVersionedCache<string>({
    readVersion: async () => {
      versionReads++;
      return version;
    },
    load: async (projectId) => `${projectId}@${version}#${++loads}`,
    checkEveryMs,
    now: () => clock,
  });
  return {
    cache,
    advance: (ms: number) => (clock += ms),
    bump: () => ++version,
    counts: () => ({ loads, versionReads }),
  };
}

describe('createVersionedCache', () => {
  it('loads lazily once and serves from memory without reading the version within checkEveryMs', async () => {
    const t = setup();
    expect(await t.cache.get('p')).toBe('p@1#1');
    t.advance(500);
    expect(await t.cache.get('p')).toBe('p@1#1');
    expect(t.counts()).toEqual({ loads: 1, versionReads: 1 });
  });

  it('shares one load between concurrent callers', async () => {
    const t = setup();
    const values = await Promise.all([t.cache.get('p'), t.cache.get('p'), t.cache.get('p')]);
    expect(new Set(values)).toEqual(new Set(['p@1#1']));
    expect(t.counts().loads).toBe(1);
  });

  it('rebuilds at once when told of a newer version, and ignores an older one', async () => {
    const t = setup();
    await t.cache.get('p');
    t.cache.invalidate('p', 1); // not newer than what it holds
    expect(await t.cache.get('p')).toBe('p@1#1');
    t.bump();
    t.cache.invalidate('p', 2);
    expect(await t.cache.get('p')).toBe('p@2#2');
  });

  it('self-heals after a missed message: the version is compared once checkEveryMs has passed', async () => {
    const t = setup();
    await t.cache.get('p');
    t.bump(); // changed, but no message arrived
    expect(await t.cache.get('p')).toBe('p@1#1'); // still trusted
    t.advance(1_000);
    expect(await t.cache.get('p')).toBe('p@2#2');
    t.advance(1_000);
    expect(await t.cache.get('p')).toBe('p@2#2'); // same version: kept
    expect(t.counts().loads).toBe(2);
  });

  it('keeps projects apart', async () => {
    const t = setup();
    expect(await t.cache.get('a')).toBe('a@1#1');
    expect(await t.cache.get('b')).toBe('b@1#2');
    t.cache.invalidate('a');
    expect(await t.cache.get('b')).toBe('b@1#2');
    expect(await t.cache.get('a')).toBe('a@1#3');
  });

  it('does not trust a load that finished with an older version than announced', async () => {
    let version = 1;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let loads = 0;
    const cache = createVersionedCache<number>({
      readVersion: async () => version,
      load: async () => {
        loads++;
        if (loads === 1) await gate;
        return loads;
      },
      checkEveryMs: 60_000,
    });
    const first = cache.get('p'); // reads version 1, then waits in load
    await new Promise((resolve) => setImmediate(resolve));
    version = 2;
    cache.invalidate('p', 2); // arrives while the first load is running
    release();
    expect(await first).toBe(1);
    expect(await cache.get('p')).toBe(2); // checked again at once, and rebuilt
  });

  it('trusts a load that finished with the announced version, or after an unversioned invalidate', async () => {
    const t = setup();
    await t.cache.get('p');
    t.bump();
    t.cache.invalidate('p', 2);
    expect(await t.cache.get('p')).toBe('p@2#2');
    const reads = t.counts().versionReads;
    expect(await t.cache.get('p')).toBe('p@2#2'); // within checkEveryMs: not compared again
    expect(t.counts().versionReads).toBe(reads);
    t.cache.invalidate('p');
    expect(await t.cache.get('p')).toBe('p@2#3');
    expect(await t.cache.get('p')).toBe('p@2#3');
    expect(t.counts().versionReads).toBe(reads + 1);
  });

  it('holds at most maxProjects, dropping the first-added entry for a new project only', async () => {
    let clock = 0;
    let version = 1;
    let loads = 0;
    const cache = createVersionedCache<string>({
      readVersion: async () => version,
      load: async (projectId) => `${projectId}#${++loads}`,
      checkEveryMs: 1_000,
      maxProjects: 2,
      now: () => clock,
    });
    expect(await cache.get('a')).toBe('a#1');
    expect(await cache.get('b')).toBe('b#2');
    clock += 1_000;
    expect(await cache.get('a')).toBe('a#1'); // compared, unchanged: trusted again
    version = 2;
    expect(await cache.get('b')).toBe('b#3'); // rebuilt in place although the cache is full
    expect(await cache.get('a')).toBe('a#1'); // so a was kept
    expect(await cache.get('c')).toBe('c#4'); // a new project: the first-added entry (a) goes
    expect(await cache.get('b')).toBe('b#3');
    expect(await cache.get('a')).toBe('a#5');
  });
});
