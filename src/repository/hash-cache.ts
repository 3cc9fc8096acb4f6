import { stat } from 'node:fs/promises';
import { sha256File } from './file-hash.ts';
import { sameSignature, signatureOf, type FileSignature } from './file-signature.ts';

/** Outcome of hashing a file: its SHA-256, `changed` if it changed while being read, or the error code. */
export type HashResult = { sha256: string } | { changed: true } | { error: string };

/**
 * SHA-256 of installer files, kept while a file's signature (size, mtime, ctime, inode) is unchanged:
 * installers are hundreds of MB, and the folder is rescanned every few seconds.
 */
export class HashCache {
  private readonly entries = new Map<string, FileSignature & { sha256: string }>();
  /** SHA-256 computations done (for metrics and tests: the cache avoids repeats). */
  computed = 0;

  /** The cached SHA-256 of `path` if its signature is still `sig`. */
  lookup(path: string, sig: FileSignature): string | undefined {
    const cached = this.entries.get(path);
    return cached && sameSignature(cached, sig) ? cached.sha256 : undefined;
  }

  /** Whether the file at `path` is still the one whose hash is cached. */
  async unchanged(path: string): Promise<boolean> {
    try {
      return this.lookup(path, signatureOf(await stat(path))) !== undefined;
    } catch {
      return false;
    }
  }

  /** Hashes a file whose signature is `sig`, and caches the result unless the file changed meanwhile. */
  async hash(path: string, sig: FileSignature): Promise<HashResult> {
    try {
      this.computed++;
      const sha256 = await sha256File(path);
      if (!sameSignature(signatureOf(await stat(path)), sig)) return { changed: true };
      this.entries.set(path, { ...sig, sha256 });
      return { sha256 };
    } catch (err) {
      return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
  }

  /** Forgets every file but `paths` (the ones offered now). */
  retain(paths: ReadonlySet<string>): void {
    for (const path of [...this.entries.keys()]) if (!paths.has(path)) this.entries.delete(path);
  }
}
