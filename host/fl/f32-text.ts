// The shortest decimal text that reads back as the same f32 (as `Math.fround(Number(text)) === v`), so printed
// aggregates are neither padded with f64 digits (0.10000000149011612) nor lossy.
export function shortestF32(v: number): string {
  if (!Number.isFinite(v) || v === 0) return String(v === 0 ? 0 : v);
  const f = Math.fround(v);
  for (let p = 1; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(f);
}
