// Big reusable byte buffers (the call input and the call output) that live outside the GC heap.
//
// Why not `heap.realloc`: when the memory maximum is reached the AssemblyScript allocator traps
// (`unreachable`), but the ABI wants `x0t_input` to return 0 and an implementation to be able to
// report "output too large" with a status. So these buffers take whole 64 KiB pages straight from
// `memory.grow`, which returns -1 instead of trapping. The allocator (TLSF) tolerates pages it did
// not grow itself: it starts a new area after whatever `memory.size()` is when it next grows.
// Pages a buffer leaves behind when it moves go to a small free list and are reused.

// TLSF must have claimed its initial memory before we grow: it adds everything up to
// `memory.size()` to its heap when it initialises. Allocating once guarantees that.
let heapReady = false;

const PAGE_SHIFT: u64 = 16;
const MEMORY_LIMIT: u64 = 1 << 32;

// Free list of left-behind regions: parallel (start, size) arrays in static memory.
const MAX_FREE: i32 = 16;
const FREE_START: usize = memory.data(MAX_FREE * 4, 4);
const FREE_SIZE: usize = memory.data(MAX_FREE * 4, 4);
let freeCount: i32 = 0;

@inline function freeStart(i: i32): usize { return load<usize>(FREE_START + (<usize>i << 2)); }
@inline function freeSize(i: i32): usize { return load<usize>(FREE_SIZE + (<usize>i << 2)); }
@inline function setFree(i: i32, start: usize, size: usize): void {
  store<usize>(FREE_START + (<usize>i << 2), start);
  store<usize>(FREE_SIZE + (<usize>i << 2), size);
}

function removeFree(i: i32): void {
  freeCount--;
  if (i != freeCount) setFree(i, freeStart(freeCount), freeSize(freeCount));
}

/** Returns [start, start+size) to the free list, merging it with adjacent free regions. */
function release(start: usize, size: usize): void {
  if (size == 0) return;
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < freeCount; i++) {
      const s = freeStart(i);
      const n = freeSize(i);
      if (s + n == start) { start = s; size += n; removeFree(i); merged = true; break; }
      if (start + size == s) { size += n; removeFree(i); merged = true; break; }
    }
  }
  if (freeCount < MAX_FREE) {
    setFree(freeCount, start, size);
    freeCount++;
    return;
  }
  // Full: keep the larger regions, forget (leak) the smallest one.
  let smallest = 0;
  for (let i = 1; i < freeCount; i++) if (freeSize(i) < freeSize(smallest)) smallest = i;
  if (freeSize(smallest) < size) setFree(smallest, start, size);
}

/**
 * Grows memory by at least `bytes` (rounded up to pages), preferring `generous` bytes when that
 * fits under the memory maximum. Returns the number of bytes added, or 0 when memory cannot grow.
 */
function growBy(bytes: u64, generous: u64): u64 {
  if (bytes == 0) return 0;
  const end = <u64>memory.size() << PAGE_SHIFT;
  const pages = <i32>((bytes + 0xffff) >> PAGE_SHIFT);
  if (generous > bytes && end + generous <= MEMORY_LIMIT) {
    const more = <i32>((generous + 0xffff) >> PAGE_SHIFT);
    if (memory.grow(more) >= 0) return <u64>more << PAGE_SHIFT;
  }
  if (end + (<u64>pages << PAGE_SHIFT) > MEMORY_LIMIT) return 0;
  if (memory.grow(pages) < 0) return 0;
  return <u64>pages << PAGE_SHIFT;
}

/** One growable buffer made of whole pages. `start` is 0 until the first `ensure`. */
@final
export class Region {
  start: usize = 0;
  capacity: usize = 0;

  /**
   * Makes the buffer at least `need` bytes long (at least one page, so `start` is never 0 after a
   * success) and returns its start, or 0 when memory cannot grow (the buffer is then unchanged).
   * The first `keep` bytes survive a move.
   */
  ensure(need: usize, keep: usize): usize {
    if (this.start != 0 && need <= this.capacity) return this.start;
    if (!heapReady) {
      heap.free(heap.alloc(16));
      heapReady = true;
    }
    const want: u64 = max<u64>(<u64>need, 1);
    // Half again as much as now, so a slowly growing input does not move on every call.
    const generous: u64 = max<u64>(want, <u64>this.capacity + (<u64>this.capacity >> 1));

    // 1. Reuse the smallest left-behind region that is big enough.
    let best = -1;
    for (let i = 0; i < freeCount; i++) {
      if (<u64>freeSize(i) >= want && (best < 0 || freeSize(i) < freeSize(best))) best = i;
    }
    if (best >= 0) {
      const s = freeStart(best);
      const n = freeSize(best);
      removeFree(best);
      return this.moveTo(s, n, keep);
    }

    const end = <u64>memory.size() << PAGE_SHIFT;
    // 2. This buffer ends where memory ends: extend it in place.
    if (this.start != 0 && <u64>this.start + <u64>this.capacity == end) {
      const got = growBy(want - <u64>this.capacity, generous - <u64>this.capacity);
      if (got == 0) return 0;
      this.capacity += <usize>got;
      return this.start;
    }

    // 3. A free region that ends where memory ends is extended; otherwise start a new one there.
    let tail = -1;
    for (let i = 0; i < freeCount; i++) {
      if (<u64>freeStart(i) + <u64>freeSize(i) == end) tail = i;
    }
    const base: u64 = tail >= 0 ? <u64>freeStart(tail) : end;
    const have: u64 = tail >= 0 ? <u64>freeSize(tail) : 0;
    const got = growBy(want - have, generous - have);
    if (got == 0) return 0;
    if (tail >= 0) removeFree(tail);
    return this.moveTo(<usize>base, <usize>(have + got), keep);
  }

  private moveTo(start: usize, size: usize, keep: usize): usize {
    if (keep > 0 && this.start != 0) memory.copy(start, this.start, min(keep, this.capacity));
    if (this.start != 0) release(this.start, this.capacity);
    this.start = start;
    this.capacity = size;
    return start;
  }
}
