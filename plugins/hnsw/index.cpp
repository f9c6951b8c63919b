// hnsw: the built-in `vector-index` plugin. The whole implementation is the SDK's hnswlib shim (sdk/c/hnsw), which
// plugin authors also start from (`x0t plugin new vector-index NAME`).
#include "hnsw/vector-index.h"
