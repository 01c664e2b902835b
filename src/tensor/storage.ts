// Storage ownership and memory accounting.
//
// Tensor memory is native-owned: the addon allocates 64-byte aligned memory and hands it to JS as
// an external ArrayBuffer. dispose() detaches that buffer (all JS views of it drop to length 0,
// so nothing can touch freed memory) and frees it at once, instead of waiting for a GC that a
// tight training loop may not give us. bench/storage.ts measures this choice against plain
// JS-owned ArrayBuffers. Storage wrapped around a caller's typed array (Arrow columns) is
// "foreign": we never free it, we only stop counting it.
import { addon } from "../backend/addon";

export type StorageOwner = "native" | "foreign";

const stats = { liveTensors: 0, liveBytes: 0, peakBytes: 0, liveStorages: 0 };

/** Memory held by tensors, for leak checks in tests and notebooks. */
export interface MemoryStats {
  /** Tensors (views included) created and not yet disposed or collected. */
  liveTensors: number;
  /** Bytes of distinct storages still referenced by live tensors. */
  liveBytes: number;
  /** Largest liveBytes seen since start or the last resetPeakMemory(). */
  peakBytes: number;
  /** Distinct storages still referenced by live tensors. */
  liveStorages: number;
  /** Bytes the native allocator holds (includes storage awaiting GC of undisposed tensors). */
  nativeBytes: number;
}

export function memoryStats(): MemoryStats {
  return { ...stats, nativeBytes: addon().nativeMemory().liveBytes };
}

/** Restarts peak tracking from the current live bytes. */
export function resetPeakMemory(): void {
  stats.peakBytes = stats.liveBytes;
}

export function countTensor(delta: 1 | -1): void {
  stats.liveTensors += delta;
}

export class Storage {
  private refs = 0;
  private freed = false;

  private constructor(
    readonly buffer: ArrayBuffer,
    readonly byteOffset: number,
    readonly byteLength: number,
    readonly owner: StorageOwner,
  ) {
    stats.liveStorages += 1;
    stats.liveBytes += byteLength;
    if (stats.liveBytes > stats.peakBytes) stats.peakBytes = stats.liveBytes;
  }

  /** Fresh native storage; zeroed when `zero`. */
  static allocate(byteLength: number, zero: boolean): Storage {
    return new Storage(addon().alloc(byteLength, zero), 0, byteLength, "native");
  }

  /** Storage over memory the caller owns (no copy). */
  static wrap(view: ArrayBufferView): Storage {
    return new Storage(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength, "foreign");
  }

  get released(): boolean {
    return this.freed;
  }

  retain(): void {
    if (this.freed) throw new Error("tensor storage was already released (the tensor was disposed)");
    this.refs += 1;
  }

  /**
   * Drops one reference. The last one frees native memory immediately, unless the drop comes
   * from the garbage collector: then user views of the buffer may still be alive, and the
   * buffer's own finalizer frees the memory once they are gone.
   */
  release(fromGc: boolean): void {
    if (this.freed) return;
    this.refs -= 1;
    if (this.refs > 0) return;
    this.freed = true;
    stats.liveStorages -= 1;
    stats.liveBytes -= this.byteLength;
    if (this.owner === "native" && !fromGc) addon().free(this.buffer);
  }
}
