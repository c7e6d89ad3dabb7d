import { describe, expect, it } from 'vitest';
import { createClientCache } from '../../../src/workers/push/clients.js';

describe('client cache', () => {
  it('reuses a client while the fingerprint holds and rebuilds it, closing the old one, when it changes', () => {
    const closed: string[] = [];
    const cache = createClientCache<string>((client) => void closed.push(client));
    let built = 0;
    const build = () => `client-${++built}`;
    expect(cache.get('p1', 'f1', build)).toBe('client-1');
    expect(cache.get('p1', 'f1', build)).toBe('client-1');
    expect(cache.get('p1', 'f2', build)).toBe('client-2');
    expect(closed).toEqual(['client-1']);
    expect(cache.get('p2', 'f1', build)).toBe('client-3');
  });

  it('closes the least recently used client past its bound, and every client on close', async () => {
    const closed: string[] = [];
    const cache = createClientCache<string>((client) => void closed.push(client), 2);
    cache.get('a', 'f', () => 'A');
    cache.get('b', 'f', () => 'B');
    cache.get('a', 'f', () => 'A2'); // touches a: b is now the oldest
    cache.get('c', 'f', () => 'C');
    expect(closed).toEqual(['B']);
    await cache.close();
    expect(closed.sort()).toEqual(['A', 'B', 'C']);
  });

  it('survives a client that fails to close', async () => {
    const cache = createClientCache<string>(() => Promise.reject(new Error('already gone')));
    cache.get('a', 'f1', () => 'A');
    expect(cache.get('a', 'f2', () => 'A2')).toBe('A2');
    await expect(cache.close()).resolves.toBeUndefined();
  });
});
