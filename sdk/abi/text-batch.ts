// Packs UTF-8 texts end to end into the fields of a TextBatch frame (contract.json): one place for the layout that
// the embedder adapter, the embedder kit and tests all write.
import type { TextBatch } from './generated/contract.js';

export function textBatchOf(parts: readonly Uint8Array[], weights: Float32Array = new Float32Array(0)): TextBatch {
  const ends = new Uint32Array(parts.length);
  let total = 0;
  parts.forEach((p, i) => { total += p.length; ends[i] = total; });
  const utf8 = new Uint8Array(total);
  parts.forEach((p, i) => utf8.set(p, i === 0 ? 0 : ends[i - 1]!));
  return { count: parts.length, bytesLen: total, weightsLen: weights.length, ends, utf8, weights };
}
