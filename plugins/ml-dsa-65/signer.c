// ml-dsa-65: ML-DSA-65 (FIPS 204) behind the x0t plugin ABI. The lattice code is PQClean's "clean" implementation
// (npm package pqclean); sdk/c/pqclean/ml-dsa.h maps the capability's functions onto it. Another parameter set:
// change the namespace here and the PQClean folder in plugin.json.
#define X0T_PQCLEAN_NAMESPACE PQCLEAN_MLDSA65_CLEAN
#include "pqclean/ml-dsa.h"
