// ml-kem-768: ML-KEM-768 (FIPS 203) behind the x0t plugin ABI. The lattice code is PQClean's "clean" implementation
// (npm package pqclean); sdk/c/pqclean/ml-kem.h maps the capability's functions onto it and adds the FIPS 203 key
// checks. Another parameter set: change the namespace here and the PQClean folder in plugin.json.
#define X0T_PQCLEAN_NAMESPACE PQCLEAN_MLKEM768_CLEAN
#include "pqclean/ml-kem.h"
