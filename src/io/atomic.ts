// Crash-safe file writes: readers of a path see either the old file or the complete new one,
// never a partial write, whatever happens to the process or the machine in between.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe } from "../tensor/dtype";

// Error codes a file-system call commonly fails with, in words for the user.
const REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  EEXIST: "the file already exists",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "the file is too large",
  EROFS: "read-only file system",
  EIO: "input/output error",
  EBUSY: "the resource is busy",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENAMETOOLONG: "the file name is too long",
  ELOOP: "too many levels of symbolic links",
  EXDEV: "the temporary file and the target are on different file systems",
};

/**
 * Why a file-system call failed, in words followed by the error code: `no such file or
 * directory (ENOENT)`. Codes without words keep Node's description; errors without a code give
 * their message.
 */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException | null | undefined;
  const code = typeof err?.code === "string" ? err.code : undefined;
  if (code !== undefined && REASONS[code] !== undefined) return `${REASONS[code]} (${code})`;
  const message = typeof err?.message === "string" ? err.message : String(e);
  // Node's messages read "ECODE: description, syscall 'path'": keep the description only.
  if (code !== undefined) return `${message.replace(new RegExp(`^${code}: `), "")} (${code})`;
  return message;
}

// writeSync takes at most 2^31 - 1 bytes a call; smaller pieces also keep each call short.
const WRITE_PIECE = 1 << 30;

/**
 * Writes the concatenation of `chunks` to `filePath` atomically: the bytes go to a temporary
 * file `.<name>.<pid>.<random>.tmp` in the same directory (created exclusively), which is
 * fsynced and renamed over `filePath`; then the directory is fsynced so the rename itself
 * survives a crash. On failure the temporary file is removed and `filePath` is left as it was.
 * A symbolic link at `filePath` is replaced by the file, not followed. A process killed during
 * the write can leave the temporary file behind (never a partial `filePath`).
 *
 * @param fn The public function writing, which starts every error message.
 * @param filePath Where the file goes (relative to the working directory or absolute).
 * @param chunks The file's bytes, in order (views of any memory, e.g. tensor data): an array, or
 *   an iterable that makes each chunk when it is reached (so a large file need not be in memory
 *   at once). An error thrown by the iterable is rethrown as it is, after the temporary file is
 *   removed.
 * @throws TypeError for a wrong kind of argument (a chunk that is not a Uint8Array); Error
 *   `${fn}: cannot write '<path>': <reason> (<CODE>)` with the file-system error as `cause` when
 *   the write fails.
 */
export function writeFileAtomic(fn: string, filePath: string, chunks: readonly Uint8Array[] | Iterable<Uint8Array>): void {
  if (typeof fn !== "string") throw new TypeError(`writeFileAtomic: fn must be a string, received ${describe(fn)}`);
  if (typeof filePath !== "string" || filePath.length === 0) {
    throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
  }
  const isArray = Array.isArray(chunks);
  if (!isArray && (chunks === null || typeof chunks !== "object" || typeof (chunks as Iterable<Uint8Array>)[Symbol.iterator] !== "function")) {
    throw new TypeError(`${fn}: chunks must be an array of Uint8Array or an iterable of them, received ${describe(chunks)}`);
  }
  const notBytes = (c: unknown, i: number): TypeError => new TypeError(`${fn}: chunks[${i}] must be a Uint8Array, received ${describe(c)}`);
  // An array is checked before the file is created; an iterable's chunks as they come.
  if (isArray) {
    (chunks as readonly unknown[]).forEach((c, i) => {
      if (!(c instanceof Uint8Array)) throw notBytes(c, i);
    });
  }
  // What the iterable threw (or a chunk of the wrong kind): passed on unwrapped.
  let ownError: { error: unknown } | undefined;
  let it: Iterator<Uint8Array> | undefined;
  const dir = path.dirname(path.resolve(filePath));
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    created = true;
    it = chunks[Symbol.iterator]();
    for (let i = 0; ; i++) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = it.next();
        if (!step.done && !(step.value instanceof Uint8Array)) throw notBytes(step.value, i);
      } catch (e) {
        ownError = { error: e };
        throw e;
      }
      if (step.done) break;
      const chunk = step.value;
      let at = 0;
      while (at < chunk.length) at += fs.writeSync(fd, chunk, at, Math.min(chunk.length - at, WRITE_PIECE));
    }
    fs.fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing);
    fs.renameSync(tmp, filePath);
  } catch (e) {
    // A generator left half-way gets to run its finally blocks (freeing what it holds).
    try {
      it?.return?.();
    } catch {
      // the write's own error is the one to report
    }
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // gone already (or never renamed away): nothing left to clean
      }
    }
    if (ownError !== undefined && ownError.error === e) throw e;
    throw new Error(`${fn}: cannot write '${filePath}': ${fsReason(e)}`, { cause: e });
  }
  // Some file systems refuse fsync on a directory (EINVAL, EISDIR, EACCES...): the data is safe
  // then, so only a real I/O error is reported.
  try {
    const dirFd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === "EIO") {
      throw new Error(`${fn}: wrote '${filePath}' but syncing its directory failed: ${fsReason(e)}`, { cause: e });
    }
  }
}
