// Socket read buffers that are reused instead of collected.
//
// Node allocates a fresh 64 KB ArrayBuffer for every socket read. On the copy path that is a
// gigabyte of short-lived external memory per gigabyte copied, and V8 answers external memory
// growth with full collections: a second of CPU per 1.2 GB in the benchmark's profile. Plain
// TCP sessions read into slabs from this pool instead (net.Socket's `onread`), body pieces are
// written to the target straight from the slab, and a slab goes back to the pool once the
// reader and every write that carries a piece of it are done with it.

const SLAB_BYTES = 64 * 1024;
/** Free slabs kept for reuse; beyond that they are left to the collector. */
const MAX_FREE = 256;

const free: Buffer[] = [];
/**
 * Holders per pooled slab (the reader, and each write not yet handed to the kernel). Weak, so a
 * slab whose holders vanished with a destroyed socket is collected rather than kept forever.
 */
const holders = new WeakMap<ArrayBufferLike, {slab: Buffer; count: number}>();
let held = 0;

/** A slab for the next read; the caller holds it until release(). */
export function takeSlab(): Buffer {
  const slab = free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  holders.set(slab.buffer, {slab, count: 1});
  held++;
  return slab;
}

/** True when `piece` lies in a pooled slab (a write of it must hold the slab). */
export function isPooled(piece: Buffer): boolean {
  return holders.has(piece.buffer);
}

/** One more holder of the slab under `piece`. */
export function retain(piece: Buffer): void {
  const entry = holders.get(piece.buffer);
  if (entry) entry.count++;
}

/** A holder is done; the last one returns the slab to the pool. */
export function release(piece: Buffer): void {
  const entry = holders.get(piece.buffer);
  if (!entry) return;
  if (--entry.count > 0) return;
  holders.delete(piece.buffer);
  held--;
  if (free.length < MAX_FREE) free.push(entry.slab);
}

/** Slabs taken and not given back yet (each open plain socket holds the one it reads into next). */
export function slabsHeld(): number {
  return held;
}
