// x0t pqc … — post-quantum primitives from the command line: ML-KEM-768 and X-Wing key encapsulation, ML-DSA-65 and
// composite Ed25519 + ML-DSA-65 signatures. Each command opens the shipped plugin it needs (sandboxed, as a node would),
// runs one operation and closes it. See docs/PQC.md.
import type { Command } from 'commander';
import { registerPqcDsa } from './pqc-dsa.js';
import { registerPqcKem } from './pqc-kem.js';

export function registerPqc(program: Command): void {
  const pqc = program
    .command('pqc')
    .description('post-quantum KEMs and signatures: ML-KEM-768, X-Wing, ML-DSA-65, Ed25519+ML-DSA-65');
  registerPqcKem(pqc);
  registerPqcDsa(pqc);
}
