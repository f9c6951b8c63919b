// Address and length of the current call output, as plain globals. They live apart from
// OutputWriter because the abort handler must set them without touching any object (the
// compiler cannot have the abort handler depend on a global that allocates).

let outPtr: usize = 0;
let outLen: u32 = 0;

export function outputPtr(): usize {
  return outPtr;
}

export function outputLen(): u32 {
  return outLen;
}

export function setOutput(p: usize, n: u32): void {
  outPtr = p;
  outLen = n;
}
