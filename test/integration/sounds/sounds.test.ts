// /api/v1/sounds with the local driver: upload (content sniffing, size limit, quota, unique
// names), list with signed URLs, delete (refused while a rule plays the sound).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { testConfig } from '../../support/env.js';
import { createRule, createUser, type TestUser } from '../inbox/fixtures.js';
import {
  download,
  expectAudio,
  mp3Frames,
  mp3WithId3,
  ogg,
  postDeclaringLength,
  uploadSound,
  wav,
} from './audio.js';

const MiB = 1024 * 1024;
let hub: TestHub;
let sa: string;
let dir: string;
let project: TestProject;
let member: TestUser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-sounds-'));
  hub = await startHub(
    { STORAGE_LOCAL_DIR: dir, SOUND_QUOTA_COUNT: '3', SOUND_QUOTA_BYTES: String(2.5 * MiB) },
    ['api'],
  );
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
  member = await createUser(hub, project.id);
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const filesOf = async (projectId: string) =>
  readdir(join(dir, projectId, 'sounds')).catch(() => [] as string[]);
const list = (token: string, headers = {}) =>
  api(hub, 'GET', '/api/v1/sounds?pageSize=200', undefined, { token, ...headers });

describe('POST /api/v1/sounds', () => {
  it('stores a WAV and answers with a signed URL that serves it', async () => {
    const bytes = wav(2000);
    const res = await uploadSound(hub, project.adminToken, {
      name: 'Siren',
      bytes,
      fileName: 'C:\\sounds\\siren.wav',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      name: 'Siren',
      fileName: 'siren.wav',
      mimeType: 'audio/wav',
      sizeBytes: 2000,
      url: expect.stringContaining(`/files/${project.id}/sounds/${res.body.id}.wav?expires=`),
    });
    expect(await filesOf(project.id)).toContain(`${res.body.id}.wav`);
    expectAudio(await download(hub, res.body.url), bytes, 'audio/wav');
    const row = await hub.running.db
      .forProject(project.id)
      .sound.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.storageKey).toBe(`${project.id}/sounds/${res.body.id}.wav`);
  });

  it('recognises MP3 and Ogg by content, whatever the name and declared type say', async () => {
    const project2 = await createTestProject(hub, sa);
    const cases = [
      { name: 'id3', bytes: mp3WithId3(), fileName: 'a.ogg', type: 'text/plain', mime: 'audio/mpeg' },
      {
        name: 'frames',
        bytes: mp3Frames(),
        fileName: 'b',
        type: 'application/octet-stream',
        mime: 'audio/mpeg',
      },
      { name: 'ogg', bytes: ogg(), fileName: 'c.wav', type: 'audio/wav', mime: 'audio/ogg' },
    ];
    for (const file of cases) {
      const res = await uploadSound(hub, project2.adminToken, file);
      expect(res.status, file.name).toBe(201);
      expect(res.body.mimeType).toBe(file.mime);
      expectAudio(await download(hub, res.body.url), file.bytes, file.mime);
    }
  });

  it('refuses a text file named .mp3 and stores nothing', async () => {
    const project2 = await createTestProject(hub, sa);
    const res = await uploadSound(hub, project2.adminToken, {
      name: 'fake',
      bytes: Buffer.from('definitely not audio\n'.repeat(20)),
      fileName: 'alarm.mp3',
      type: 'audio/mpeg',
    });
    expectError(res, 400, 'sound_format_unsupported');
    expect(await filesOf(project2.id)).toEqual([]);
    expect(await hub.running.db.forProject(project2.id).sound.count()).toBe(0);
  });

  it('takes a file of exactly SOUND_MAX_BYTES (above the app-wide body limit) and refuses one byte more', async () => {
    const project2 = await createTestProject(hub, sa);
    expect((await uploadSound(hub, project2.adminToken, { name: 'max', bytes: wav(MiB) })).status).toBe(201);
    expectError(
      await uploadSound(hub, project2.adminToken, { name: 'over', bytes: wav(MiB + 1) }),
      413,
      'sound_too_large',
    );
    const wayOver = await postDeclaringLength(hub, '/api/v1/sounds', 10 * MiB, {
      Authorization: `Bearer ${project2.adminToken}`,
      'Content-Type': 'multipart/form-data; boundary=x',
    });
    expectError({ ...wayOver, headers: new Headers() }, 413, 'sound_too_large');
    expect(await filesOf(project2.id)).toHaveLength(1);
    // Other routes keep the app-wide limit.
    const big = await postDeclaringLength(hub, '/api/v1/auth/login', 2 * MiB, {
      'Content-Type': 'application/json',
    });
    expectError({ ...big, headers: new Headers() }, 413, 'payload_too_large');
  });

  it('validates the form: 400 without a file or a name, 415 as JSON', async () => {
    const form = new FormData();
    form.set('name', 'no file');
    const noFile = await fetch(`${hub.apiUrl}/api/v1/sounds`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${project.adminToken}` },
      body: form,
    });
    expectError(
      { status: noFile.status, body: await noFile.json(), headers: noFile.headers },
      400,
      'validation_failed',
    );
    expectError(
      await uploadSound(hub, project.adminToken, { name: '', bytes: wav() }),
      400,
      'validation_failed',
    );
    expectError(
      await uploadSound(hub, project.adminToken, { name: 'x'.repeat(121), bytes: wav() }),
      400,
      'validation_failed',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/sounds', { name: 'json' }, { token: project.adminToken }),
      415,
    );
  });

  it('keeps names unique per project (409) and removes the refused upload', async () => {
    const project2 = await createTestProject(hub, sa);
    expect((await uploadSound(hub, project2.adminToken, { name: 'Bell', bytes: wav() })).status).toBe(201);
    expectError(
      await uploadSound(hub, project2.adminToken, { name: 'Bell', bytes: wav() }),
      409,
      'sound_name_taken',
    );
    expect(await filesOf(project2.id)).toHaveLength(1);
    // Another project may use the name.
    expect((await uploadSound(hub, project.adminToken, { name: 'Bell', bytes: wav() })).status).toBe(201);
  });

  it('enforces the per-project quota on count and on total bytes', async () => {
    const byCount = await createTestProject(hub, sa);
    for (const name of ['a', 'b', 'c']) {
      expect((await uploadSound(hub, byCount.adminToken, { name, bytes: wav() })).status).toBe(201);
    }
    expectError(
      await uploadSound(hub, byCount.adminToken, { name: 'd', bytes: wav() }),
      409,
      'sound_quota_count',
    );

    const byBytes = await createTestProject(hub, sa);
    expect((await uploadSound(hub, byBytes.adminToken, { name: 'a', bytes: wav(MiB) })).status).toBe(201);
    expect((await uploadSound(hub, byBytes.adminToken, { name: 'b', bytes: wav(MiB) })).status).toBe(201);
    expectError(
      await uploadSound(hub, byBytes.adminToken, { name: 'c', bytes: wav(MiB / 2 + 1) }),
      409,
      'sound_quota_bytes',
    );
    expect((await uploadSound(hub, byBytes.adminToken, { name: 'c', bytes: wav(MiB / 2) })).status).toBe(201);
    expect(await filesOf(byBytes.id)).toHaveLength(3);
    // The listing says what the quota is, so a client can show how much is left.
    expect((await list(byBytes.adminToken)).body.quota).toEqual({
      count: 3,
      bytes: 2.5 * MiB,
      fileBytes: testConfig().sounds.maxBytes,
    });
  });

  it('holds the quota when uploads race', async () => {
    const racing = await createTestProject(hub, sa);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        uploadSound(hub, racing.adminToken, { name: `r${i}`, bytes: wav() }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409]);
    expect(await hub.running.db.forProject(racing.id).sound.count()).toBe(3);
    expect(await filesOf(racing.id)).toHaveLength(3);
  });

  it('needs sounds:write (403) and a token (401); a super admin acts with X-Project-Id', async () => {
    expectError(await uploadSound(hub, member.token, { name: 'm', bytes: wav() }), 403, 'permission_denied');
    expectError(await uploadSound(hub, undefined, { name: 'm', bytes: wav() }), 401, 'auth_required');
    const bySa = await uploadSound(
      hub,
      sa,
      { name: 'from sa', bytes: wav() },
      { 'X-Project-Id': project.id },
    );
    expect(bySa.status).toBe(201);
    expectError(await uploadSound(hub, sa, { name: 'nowhere', bytes: wav() }), 400, 'project_required');
  });
});

describe('GET /api/v1/sounds', () => {
  it("lists the project's sounds by name, each with a working signed URL, for any project user", async () => {
    const own = await createTestProject(hub, sa);
    const other = await createTestProject(hub, sa);
    await uploadSound(hub, own.adminToken, { name: 'zulu', bytes: wav(500) });
    await uploadSound(hub, own.adminToken, { name: 'alpha', bytes: mp3Frames(), fileName: 'alpha.mp3' });
    await uploadSound(hub, other.adminToken, { name: 'elsewhere', bytes: wav() });
    const reader = await createUser(hub, own.id);
    const res = await list(reader.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 2, page: 1, pageSize: 200 });
    expect(res.body.items.map((s: { name: string }) => s.name)).toEqual(['alpha', 'zulu']);
    expectAudio(await download(hub, res.body.items[1].url), wav(500), 'audio/wav');
  });

  it('needs a token and validates paging', async () => {
    expectError(await api(hub, 'GET', '/api/v1/sounds'), 401, 'auth_required');
    expectError(
      await api(hub, 'GET', '/api/v1/sounds?page=0', undefined, { token: member.token }),
      400,
      'validation_failed',
    );
  });
});

describe('DELETE /api/v1/sounds/:id', () => {
  it('deletes the row and the file; its URL then finds nothing', async () => {
    const own = await createTestProject(hub, sa);
    const sound = (await uploadSound(hub, own.adminToken, { name: 'gone', bytes: wav() })).body;
    const res = await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, { token: own.adminToken });
    expect(res.status).toBe(204);
    expect(await filesOf(own.id)).toEqual([]);
    expectError(
      await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, { token: own.adminToken }),
      404,
      'not_found',
    );
    expect((await download(hub, sound.url)).status).toBe(404);
  });

  it('refuses while a rule that is not deleted plays it; a deleted rule lets go', async () => {
    const own = await createTestProject(hub, sa);
    const sound = (await uploadSound(hub, own.adminToken, { name: 'used', bytes: wav() })).body;
    const ruleId = await createRule(hub, own.id, sound.id);
    const refused = await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, {
      token: own.adminToken,
    });
    expectError(refused, 409, 'sound_in_use');
    expect(refused.body.error.details.rules).toEqual([{ id: ruleId, name: expect.any(String) }]);
    expect(await filesOf(own.id)).toHaveLength(1);
    const rules = hub.running.db.forProject(own.id).rule;
    await rules.update({ where: { id: ruleId }, data: { active: false } });
    expectError(
      await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, { token: own.adminToken }),
      409,
      'sound_in_use',
    );
    await rules.update({ where: { id: ruleId }, data: { deletedAt: new Date() } });
    expect(
      (await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, { token: own.adminToken })).status,
    ).toBe(204);
    expect((await rules.findUniqueOrThrow({ where: { id: ruleId } })).soundId).toBeNull();
  });

  it("is 404 for another project's sound, 403 without sounds:write, 401 without a token, 400 for a bad id", async () => {
    const own = await createTestProject(hub, sa);
    const sound = (await uploadSound(hub, own.adminToken, { name: 'mine', bytes: wav() })).body;
    expectError(
      await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, { token: project.adminToken }),
      404,
      'not_found',
    );
    const reader = await createUser(hub, own.id);
    expectError(
      await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`, undefined, { token: reader.token }),
      403,
      'permission_denied',
    );
    expectError(await api(hub, 'DELETE', `/api/v1/sounds/${sound.id}`), 401, 'auth_required');
    expectError(
      await api(hub, 'DELETE', '/api/v1/sounds/nope', undefined, { token: own.adminToken }),
      400,
      'validation_failed',
    );
    expect(await filesOf(own.id)).toHaveLength(1);
  });
});
