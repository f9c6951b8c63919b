// __NAME__: a signer plugin (capability `signer`), scaffolded by `x0t plugin new`. It starts as ML-DSA-65 (FIPS 204):
// PQClean's "clean" C implementation (npm package pqclean) behind the x0t plugin ABI; sdk/c/pqclean/ml-dsa.h maps the
// capability's functions onto it and decodes the frames.
//
// For ML-DSA-44 or -87, change the namespace below and the PQClean folder in plugin.json (sources and include).
// For another scheme, write the five functions yourself with sdk/c/x0t.h (X0T_EXPORT, x0t_frame_decode/write,
// x0t_random) instead of including the PQClean shim. Then `x0t plugin build __NAME__` and
// `x0t plugin test manifests/plugins/__NAME__.json` (the conformance kit every signer must pass).
#define X0T_PQCLEAN_NAMESPACE PQCLEAN_MLDSA65_CLEAN
#include "pqclean/ml-dsa.h"
