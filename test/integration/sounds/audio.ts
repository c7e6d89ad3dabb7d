// Small audio files built byte by byte, and the multipart upload the sound tests send.
import { request } from 'node:http';
import { expect } from 'vitest';
import type { TestHub } from '../../support/hub.js';

/** A valid PCM WAV file (RIFF header, fmt chunk, data chunk) of exactly `totalBytes`. */
export function wav(totalBytes = 1000): Buffer {
  const data = totalBytes - 44;
  const b = Buffer.alloc(totalBytes);
  b.write('RIFF', 0);
  b.writeUInt32LE(totalBytes - 8, 4);
  b.write('WAVE', 8);
  b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24); // sample rate
  b.writeUInt32LE(8000, 28); // byte rate
  b.writeUInt16LE(1, 32); // block align
  b.writeUInt16LE(8, 34); // bits per sample
  b.write('data', 36);
  b.writeUInt32LE(data, 40);
  b.fill(0x80, 44);
  return b;
}

/** An MPEG-1 Layer III frame header (128 kbit/s, 44.1 kHz) and silence. */
export const mp3Frames = () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)]);

/** An ID3v2.4 tag in front of MPEG frames. */
export const mp3WithId3 = () =>
  Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0, 0]), mp3Frames()]);

/** The first page header of an Ogg stream. */
export const ogg = () => Buffer.concat([Buffer.from('OggS'), Buffer.from([0, 2]), Buffer.alloc(200)]);

export interface SoundFile {
  name: string;
  bytes: Buffer;
  fileName?: string;
  type?: string;
}

export async function uploadSound(
  hub: TestHub,
  token: string | undefined,
  file: SoundFile,
  headers: Record<string, string> = {},
) {
  const form = new FormData();
  form.set('name', file.name);
  form.set('file', new Blob([file.bytes], { type: file.type ?? 'audio/wav' }), file.fileName ?? 'sound.wav');
  const res = await fetch(`${hub.apiUrl}/api/v1/sounds`, {
    method: 'POST',
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

/** Downloads a signed URL; local-driver URLs are sent to the hub (the test's public URL has port 0). */
export async function download(hub: TestHub, url: string) {
  const parsed = new URL(url);
  const target = parsed.pathname.startsWith('/files/')
    ? `${hub.apiUrl}${parsed.pathname}${parsed.search}`
    : url;
  const res = await fetch(target);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, bytes, type: res.headers.get('content-type'), headers: res.headers };
}

export function expectAudio(
  res: { status: number; bytes: Buffer; type: string | null },
  bytes: Buffer,
  type: string,
) {
  expect(res.status).toBe(200);
  expect(res.type).toBe(type);
  expect(res.bytes.equals(bytes)).toBe(true);
}

/**
 * Sends only the headers of a POST declaring a `length`-byte body and resolves with the answer.
 * An over-limit answer comes before the body; sending it all would race the server closing
 * the socket on the rest.
 */
export function postDeclaringLength(
  hub: TestHub,
  path: string,
  length: number,
  headers: Record<string, string> = {},
) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(`${hub.apiUrl}${path}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(length) },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode!, body: JSON.parse(text) });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}
