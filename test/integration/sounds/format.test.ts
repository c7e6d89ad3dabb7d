// Audio is recognised by its first bytes only.
import { describe, expect, it } from 'vitest';
import { detectSoundFormat } from '../../../src/domain/sound-format.js';
import { mp3Frames, mp3WithId3, ogg, wav } from './audio.js';

describe('detectSoundFormat', () => {
  it.each([
    ['WAV', wav(), 'wav'],
    ['MP3 with an ID3 tag', mp3WithId3(), 'mp3'],
    ['bare MP3 frames', mp3Frames(), 'mp3'],
    ['MPEG-2 Layer III frames', Buffer.from([0xff, 0xf3, 0x64, 0xc4]), 'mp3'],
    ['Ogg', ogg(), 'ogg'],
  ])('recognises %s', (_name, bytes, extension) => {
    expect(detectSoundFormat(bytes)?.extension).toBe(extension);
  });

  it.each([
    ['text', Buffer.from('this is not audio at all, only a .mp3 name')],
    ['nothing', Buffer.alloc(0)],
    [
      'a RIFF that is not WAVE (AVI)',
      Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI LIST')]),
    ],
    ['a truncated RIFF', Buffer.from('RIFF\0\0\0\0WAV')],
    ['AAC ADTS (same sync word, layer 00)', Buffer.from([0xff, 0xf1, 0x50, 0x80])],
    ['a frame with the reserved MPEG version', Buffer.from([0xff, 0xeb, 0x90, 0x64])],
    ['a frame with a bad bitrate', Buffer.from([0xff, 0xfb, 0xf0, 0x64])],
    ['a frame with a reserved sample rate', Buffer.from([0xff, 0xfb, 0x9c, 0x64])],
    ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['"OggS" later in the file', Buffer.from('xxOggS')],
  ])('refuses %s', (_name, bytes) => {
    expect(detectSoundFormat(bytes)).toBeNull();
  });
});
