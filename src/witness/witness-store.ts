import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { WitnessedHead } from '../domain/witness/add-checkpoint.js';

/**
 * The witness's state: the latest cosigned checkpoint (size, root) per origin, in one JSON file.
 * `put` returns only once the new state is on disk (written beside, fsynced, renamed over), so a
 * cosignature is never answered for a state a crash could lose. One process per file: a lock
 * file holding the owner's pid is taken at open (a lock of a dead process is taken over).
 * Callers serialize check-and-put (see WitnessServer), which the spec requires to be atomic.
 */
export class FileWitnessStore {
  private readonly heads = new Map<string, WitnessedHead>();
  private readonly lockFile: string;

  constructor(private readonly file: string) {
    this.lockFile = `${file}.lock`;
    this.lock();
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { origins: Record<string, { size: number; root: string }> };
      for (const [origin, h] of Object.entries(parsed.origins ?? {}))
        this.heads.set(origin, { size: h.size, root: Buffer.from(h.root, 'base64') });
    }
  }

  get(origin: string): WitnessedHead | undefined {
    return this.heads.get(origin);
  }

  put(origin: string, head: WitnessedHead): void {
    const next = new Map(this.heads).set(origin, head);
    const origins = Object.fromEntries(
      [...next].map(([o, h]) => [o, { size: h.size, root: h.root.toString('base64') }]),
    );
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify({ origins }, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dir = openSync(dirname(this.file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.heads.set(origin, head);
  }

  close(): void {
    try {
      unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }

  private lock(): void {
    try {
      writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(this.lockFile, 'utf8'));
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
      throw new Error(`witness state ${this.file} is in use by process ${owner} (${this.lockFile})`);
    writeFileSync(this.lockFile, String(process.pid));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
