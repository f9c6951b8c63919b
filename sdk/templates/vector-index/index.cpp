// __NAME__: a vector-index plugin (capability `vector-index`), scaffolded by `x0t plugin new`. It starts as the
// built-in HNSW index: hnswlib's C++ (npm package hnswlib-node) behind the x0t plugin ABI, with SIMD distance kernels;
// sdk/c/hnsw/vector-index.h maps the capability's seven functions onto it, validates every frame, and adds filtered
// search and a checked save/load image.
//
// To tune it, copy sdk/c/hnsw/vector-index.h here and change it (graph parameters are the caller's, set by
// index_init). For another index (IVF, product quantisation, LSH), write the seven functions yourself with
// sdk/c/x0t.h (X0T_EXPORT, x0t_frame_decode/write). Then `x0t plugin build __NAME__` and
// `x0t plugin test manifests/plugins/__NAME__.json` (the conformance kit every vector index must pass).
#include "hnsw/vector-index.h"
