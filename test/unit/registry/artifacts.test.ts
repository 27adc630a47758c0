/**
 * The local artifact store reads and writes asynchronously and hashes in slices, so it never holds the event loop long: what it stores and refuses
 * is unchanged, and concurrent puts of the same bytes leave one intact file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { LocalArtifactStore, sha256Hex } from '../../../src/artifacts/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-artifacts-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('LocalArtifactStore', () => {
  const store = new LocalArtifactStore(dir);

  it('stores bytes under their sha256 and gives them back', async () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
    const artifact = await store.put(bytes);
    expect(artifact).toEqual({ uri: `artifact://sha256/${sha256Hex(bytes)}`, sha256: sha256Hex(bytes), bytes: 100_000 });
    expect(Buffer.from(await store.get(artifact.uri)).equals(bytes)).toBe(true);
  });

  it('leaves one intact file when the same bytes are put concurrently', async () => {
    const bytes = Uint8Array.from({ length: 1_000_000 }, (_, i) => (i * 13) % 256);
    const artifacts = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
    expect(new Set(artifacts.map((a) => a.uri)).size).toBe(1);
    expect(Buffer.from(await store.get(artifacts[0]!.uri)).equals(bytes)).toBe(true);
    const folder = path.join(dir, 'sha256', artifacts[0]!.sha256.slice(0, 2));
    expect(fs.readdirSync(folder)).toEqual([artifacts[0]!.sha256]);
  });

  it('refuses a corrupt artifact', async () => {
    const artifact = await store.put(new TextEncoder().encode('honest bytes'));
    fs.writeFileSync(path.join(dir, 'sha256', artifact.sha256.slice(0, 2), artifact.sha256), 'tampered bytes');
    const error = await store.get(artifact.uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(`Artifact ${artifact.uri} is corrupt: its content hashes to ${sha256Hex(new TextEncoder().encode('tampered bytes'))}. Restore it or retrain.`);
  });

  it('sweeps what a killed put left in incoming/ before its first write, and keeps a live writer\'s', async () => {
    const home = fs.mkdtempSync(path.join(dir, 'sweep-'));
    const incoming = path.join(home, 'incoming');
    fs.mkdirSync(incoming);
    // A process that has exited: its pid is dead (the kernel does not reuse it this quickly).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const uuid = '0a1b2c3d-0000-4000-8000-000000000000';
    const deadWriter = `${os.hostname()}.${dead}.${uuid}.tmp`;
    const liveWriter = `${os.hostname()}.${process.pid}.${uuid}.tmp`;
    const otherHost = `elsewhere.${dead}.${uuid}.tmp`;
    const otherHostOld = `elsewhere.1.${uuid}.tmp`;
    for (const name of [deadWriter, liveWriter, otherHost, otherHostOld]) fs.writeFileSync(path.join(incoming, name), 'partial');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    fs.utimesSync(path.join(incoming, otherHostOld), twoDaysAgo, twoDaysAgo);

    const artifact = await new LocalArtifactStore(home).put(new TextEncoder().encode('after a crash'));
    // The dead writer's file and the day-old one go; a live writer's, and a fresh one of a host this
    // process cannot see into, stay.
    expect(fs.readdirSync(incoming).sort()).toEqual([liveWriter, otherHost].sort());
    expect(fs.readdirSync(path.join(home, 'sha256'), { recursive: true }).sort()).toEqual([artifact.sha256.slice(0, 2), path.join(artifact.sha256.slice(0, 2), artifact.sha256)]);
  });
});
