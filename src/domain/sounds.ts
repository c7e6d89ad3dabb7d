// Sounds a rule can play: uploaded once per project (format recognised by content, size and
// quota limited), stored through the storage driver, handed out as signed URLs.
import { AppError, badRequest, conflict, notFound } from '../core/errors.js';
import { uuidv7 } from '../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import type { Principal } from './principal.js';
import { detectSoundFormat } from './sound-format.js';
import { isUniqueViolation } from '../core/db.js';

type SoundRow = {
  id: string;
  name: string;
  fileName: string;
  mimeType: string;
  sizeBytes: number;
  storageKey: string;
  createdAt: Date;
};

/** A signed URL for the sound's file, valid for SIGNED_URL_TTL_SECONDS (push payloads use it too). */
export function soundUrl(deps: Pick<DomainDeps, 'storage' | 'config'>, sound: Pick<SoundRow, 'storageKey'>) {
  return deps.storage.signedUrl(sound.storageKey, deps.config.storage.signedUrlTtlSeconds);
}

async function soundView(deps: DomainDeps, row: SoundRow) {
  const { id, name, fileName, mimeType, sizeBytes, createdAt } = row;
  return { id, name, fileName, mimeType, sizeBytes, createdAt, url: await soundUrl(deps, row) };
}

export type SoundView = Awaited<ReturnType<typeof soundView>>;

/** The uploaded name without any path, reduced to characters every platform's sound field accepts. */
function cleanFileName(uploaded: string, extension: string): string {
  const base = uploaded
    .split(/[\\/]/)
    .pop()!
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .trim()
    .slice(-255);
  return base.replace(/^\.+/, '') || `sound.${extension}`;
}

export interface SoundUpload {
  name: string;
  fileName: string;
  bytes: Buffer;
}

export async function createSound(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  upload: SoundUpload,
): Promise<SoundView> {
  const limits = deps.config.sounds;
  if (upload.bytes.length > limits.maxBytes) {
    throw new AppError(413, 'sound_too_large', `A sound may have at most ${limits.maxBytes} bytes`);
  }
  const format = detectSoundFormat(upload.bytes);
  if (!format) {
    throw badRequest(
      'sound_format_unsupported',
      'The file is not MP3, Ogg or WAV audio (judged by its content)',
    );
  }
  const id = uuidv7();
  const storageKey = `${projectId}/sounds/${id}.${format.extension}`;
  // Upload before the transaction, so no lock is held while bytes travel to the store.
  await deps.storage.put(storageKey, upload.bytes, format.mimeType);
  try {
    const row = await deps.db.forProject(projectId).$transaction(async (tx) => {
      // Serialise uploads per project: two at once must not both squeeze under the quota.
      await tx.$queryRaw`SELECT id FROM Project WHERE id = ${projectId} FOR UPDATE`;
      const used = await tx.sound.aggregate({ _count: { _all: true }, _sum: { sizeBytes: true } });
      if (used._count._all + 1 > limits.quotaCount) {
        throw conflict('sound_quota_count', `A project may have at most ${limits.quotaCount} sounds`);
      }
      if ((used._sum.sizeBytes ?? 0) + upload.bytes.length > limits.quotaBytes) {
        throw conflict('sound_quota_bytes', `A project's sounds may take at most ${limits.quotaBytes} bytes`);
      }
      return tx.sound.create({
        data: {
          id,
          projectId,
          name: upload.name,
          fileName: cleanFileName(upload.fileName, format.extension),
          mimeType: format.mimeType,
          sizeBytes: upload.bytes.length,
          storageKey,
          createdBy: principal.kind === 'user' ? principal.userId : null,
        },
      });
    });
    deps.audit.record({
      projectId,
      principal,
      action: 'sound.create',
      resourceType: 'sound',
      resourceId: id,
    });
    return soundView(deps, row);
  } catch (err) {
    await deps.storage
      .delete(storageKey)
      .catch((cause) => deps.log.warn({ err: cause, storageKey }, 'Orphan sound file'));
    if (isUniqueViolation(err))
      throw conflict('sound_name_taken', `A sound named "${upload.name}" already exists`);
    throw err;
  }
}

export async function listSounds(deps: DomainDeps, projectId: string, page: Page) {
  const db = deps.db.forProject(projectId);
  const [rows, total] = await Promise.all([
    db.sound.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }], ...pageArgs(page) }),
    db.sound.count(),
  ]);
  return { items: await Promise.all(rows.map((row) => soundView(deps, row))), ...page, total };
}

/** Refused while a rule that is not deleted plays the sound; deleted rules and past notifications lose it. */
export async function deleteSound(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const sound = await deps.db.forProject(projectId).$transaction(async (tx) => {
    const row = await tx.sound.findFirst({ where: { id } });
    if (!row) throw notFound('Sound');
    // A locking read on Rule's soundId index also holds back a rule being pointed at this sound
    // meanwhile (the foreign key's ON DELETE SET NULL would otherwise silently drop it).
    const users = await tx.$queryRaw<Array<{ id: string; name: string }>>`
      SELECT id, name FROM Rule
      WHERE projectId = ${projectId} AND soundId = ${id} AND deletedAt IS NULL
      LIMIT 10 FOR UPDATE`;
    if (users.length) {
      throw new AppError(409, 'sound_in_use', 'Rules still play this sound; change or delete them first', {
        rules: users,
      });
    }
    await tx.sound.delete({ where: { id } });
    return row;
  });
  deps.audit.record({ projectId, principal, action: 'sound.delete', resourceType: 'sound', resourceId: id });
  // After the commit: a file left behind by a failure here is harmless, a row without its file is not.
  await deps.storage
    .delete(sound.storageKey)
    .catch((err) => deps.log.warn({ err, storageKey: sound.storageKey }, 'Could not delete a sound file'));
}
