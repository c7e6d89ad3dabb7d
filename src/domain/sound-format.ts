// Recognises an audio file by its first bytes (never by name or declared type): MP3 (an ID3v2
// tag or an MPEG audio frame header), Ogg (`OggS`) and WAV (`RIFF` … `WAVE`).
export interface SoundFormat {
  extension: 'mp3' | 'ogg' | 'wav';
  mimeType: string;
}

const MP3: SoundFormat = { extension: 'mp3', mimeType: 'audio/mpeg' };
const OGG: SoundFormat = { extension: 'ogg', mimeType: 'audio/ogg' };
const WAV: SoundFormat = { extension: 'wav', mimeType: 'audio/wav' };

const ascii = (bytes: Uint8Array, start: number, text: string) =>
  bytes.length >= start + text.length &&
  [...text].every((char, i) => bytes[start + i] === char.charCodeAt(0));

/**
 * An MPEG-1/2/2.5 Layer I–III frame header: 11 sync bits, then fields whose reserved values
 * (version 01, layer 00, bitrate 1111, sample rate 11) would not be audio. Layer 00 also
 * rules out AAC's ADTS header, which shares the sync word.
 */
function isMpegFrame(b: Uint8Array): boolean {
  if (b.length < 4 || b[0] !== 0xff || (b[1]! & 0xe0) !== 0xe0) return false;
  const version = (b[1]! >> 3) & 0b11;
  const layer = (b[1]! >> 1) & 0b11;
  const bitrate = b[2]! >> 4;
  const sampleRate = (b[2]! >> 2) & 0b11;
  return version !== 0b01 && layer !== 0b00 && bitrate !== 0b1111 && sampleRate !== 0b11;
}

/** The media type of a stored sound's file, from the extension the server gave its key. */
export function mimeTypeOfExtension(extension: string): string | undefined {
  return [MP3, OGG, WAV].find((format) => format.extension === extension)?.mimeType;
}

export function detectSoundFormat(bytes: Uint8Array): SoundFormat | null {
  if (ascii(bytes, 0, 'ID3') || isMpegFrame(bytes)) return MP3;
  if (ascii(bytes, 0, 'OggS')) return OGG;
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WAVE')) return WAV;
  return null;
}
