// __NAME__: a KEM plugin (capability `kem`), scaffolded by `x0t plugin new`. It starts as ML-KEM-768 (FIPS 203):
// PQClean's "clean" C implementation (npm package pqclean) behind the x0t plugin ABI; sdk/c/pqclean/ml-kem.h maps the
// capability's functions onto it, decodes the frames and adds the FIPS 203 key checks.
//
// For ML-KEM-512 or -1024, change the namespace below and the PQClean folder in plugin.json (sources and include).
// For another KEM, write the five functions yourself with sdk/c/x0t.h (X0T_EXPORT, x0t_frame_decode/write,
// x0t_random) instead of including the PQClean shim. Then `x0t plugin build __NAME__` and
// `x0t plugin test manifests/plugins/__NAME__.json` (the conformance kit every KEM must pass).
#define X0T_PQCLEAN_NAMESPACE PQCLEAN_MLKEM768_CLEAN
#include "pqclean/ml-kem.h"
