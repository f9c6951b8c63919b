// The `vector-index` capability over hnswlib's own C++ (the headers of the npm package hnswlib-node, compiled at
// build time, never copied here) with SIMD distance kernels (simd-distance.h). One index per instance. Included by
// exactly one .cpp file of a plugin (plugins/hnsw/index.cpp, or a plugin scaffolded from sdk/templates/vector-index),
// whose plugin.json adds hnswlib's folder as a system include, force-includes single-thread-mutex.h and compiles
// cxa-throw.cpp.
//
// What this shim adds to hnswlib:
// - metrics l2 (squared), ip (1 − dot) and cosine (vectors and queries normalised here, then 1 − dot);
// - insert replaces a present label (also a removed one); remove marks deleted and later inserts reuse the slot;
// - capacity grows on demand; growth is tried in memory first, so past the memory limit the call fails with
//   `internal` and the index stays as it was (hnswlib itself would throw, which traps here: cxa-throw.cpp);
// - a filter bitset, and an exact scan instead of the graph when the filter lets few labels through (HNSW's recall
//   collapses when most of the graph is filtered away);
// - its own query loop over hnswlib's graph (paired-search.h): the same walk as searchKnn, with the distances of a
//   node's neighbours computed two at a time, since wasm cannot prefetch;
// - its own compact serialised form, written from hnswlib's public members (hnswlib's saveIndex needs std::ofstream),
//   read back by index_load only after every length, offset, label and link has been checked.
//
// Serialised form (little-endian, wasm32: labels are 32-bit size_t, so not compatible with native hnswlib files):
//   0   "HNSW", u8 version (1), 3 zero bytes
//   8   u32 dim, metric, m, efConstruction, efSearch, seed, count (elements incl. deleted), deleted, maxLevel (i32),
//       entryPoint, bytesPerElement (level 0), bytesPerLinkList (upper levels), 2 zero u32      (14 u32 = 56 bytes)
//   64  count × bytesPerElement: hnswlib's level-0 block (links, vector, label per element)
//   ... per element: u32 level, then level × bytesPerLinkList bytes of its upper-level link lists
#pragma once

#include "null-log.h"

#include "hnswlib.h"
#include "paired-search.h"
#include "simd-distance.h"
#include "x0t.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <unordered_set>
#include <vector>

// hnswlib's saveIndex is virtual, so the vtable would instantiate it, and with it std::ofstream, the locale and stdio
// (whose exit hooks import WASI). This explicit specialisation replaces it before that happens; index_save writes the
// index from hnswlib's public members instead.
template <>
void hnswlib::HierarchicalNSW<float>::saveIndex(const std::string &) {
  __builtin_trap();
}

namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;
using hnswlib::labeltype;
using hnswlib::tableint;

constexpr uint32_t kMetricL2 = 0, kMetricIp = 1, kMetricCosine = 2;
constexpr uint32_t kNoLabel = 0xFFFFFFFFu;
constexpr uint32_t kMaxDim = 16384;
constexpr uint32_t kMinM = 2, kMaxM = 256;  // hnswlib keeps link counts in 16 bits; 2M must fit
constexpr uint32_t kMaxEf = 1u << 20;
constexpr uint32_t kMaxK = 1u << 16;
constexpr uint32_t kDefaultCapacity = 1024;
constexpr int kMaxLevel = 64;
/** Room kept free beyond a growth's own allocations, for the link lists and label table of the inserts after it. */
constexpr uint64_t kGrowthSlack = 4u << 20;
constexpr uint32_t kImageHeader = 64;
constexpr uint8_t kImageVersion = 1;

struct Params {
  uint32_t dim, metric, m, efConstruction, efSearch, seed;
};

struct Index {
  Params p;
  x0t::SimdSpace *space;
  Hnsw *hnsw;
  float *scratch;  // one normalised vector (cosine)
};

// Plain pointers: a reactor built with -nostartfiles runs no global constructors.
Index *g_index;
uint8_t *g_snapshot;  // index_save's image, read in pieces
uint32_t g_snapshot_len;
uint8_t *g_staged;  // index_load's image being received
uint32_t g_staged_len, g_staged_have;

void free_buffer(uint8_t *&p) {
  free(p);
  p = nullptr;
}

void destroy(Index *ix) {
  if (ix == nullptr) return;
  delete ix->hnsw;
  delete ix->space;
  free(ix->scratch);
  delete ix;
}

uint64_t bytes_per_element(const Params &p) {
  return (uint64_t)p.m * 2 * sizeof(tableint) + sizeof(hnswlib::linklistsizeint) + (uint64_t)p.dim * 4 + sizeof(labeltype);
}

uint64_t bytes_per_link_list(const Params &p) { return (uint64_t)p.m * sizeof(tableint) + sizeof(hnswlib::linklistsizeint); }

/** Whether `bytes` can be allocated now (the memory stays with the allocator, ready for the real allocations). */
bool can_allocate(uint64_t bytes) {
  if (bytes > 0xFFFF0000u) return false;
  void *p = malloc((size_t)bytes);
  if (p == nullptr) return false;
  free(p);
  return true;
}

/** What hnswlib allocates for `capacity` elements besides the upper-level link lists. */
uint64_t capacity_bytes(const Params &p, uint64_t capacity) {
  // level-0 block, link-list pointers, element levels, visited list (u16), per-element lock stand-ins
  return capacity * (bytes_per_element(p) + sizeof(void *) + sizeof(int) + 2 + 1);
}

int32_t fail_memory(const char *what, uint64_t capacity, uint64_t bytes) {
  x0t_msg_begin();
  x0t_msg_str(what);
  x0t_msg_str(" for ");
  x0t_msg_u64(capacity);
  x0t_msg_str(" elements needs about ");
  x0t_msg_u64(bytes);
  x0t_msg_str(" bytes, more than is left under the plugin's memory limit (maxMemoryPages)");
  return x0t_msg_fail(X0T_STATUS_INTERNAL);
}

/** A new empty index of `capacity` elements, or NULL when it does not fit in memory. */
Index *create(const Params &p, uint32_t capacity) {
  uint64_t need = capacity_bytes(p, capacity) + (uint64_t)Hnsw::MAX_LABEL_OPERATION_LOCKS + kGrowthSlack;
  if (!can_allocate(need)) return nullptr;
  Index *ix = new Index();
  ix->p = p;
  ix->space = new x0t::SimdSpace(p.dim, p.metric == kMetricL2);
  ix->scratch = static_cast<float *>(malloc((size_t)p.dim * sizeof(float)));
  ix->hnsw = new Hnsw(ix->space, capacity, p.m, p.efConstruction, p.seed, /* allow_replace_deleted */ true);
  ix->hnsw->setEf(p.efSearch);
  return ix;
}

/**
 * Grows `ix` to hold `needed` elements (half as many again when memory allows), or fails with `internal` and leaves
 * the index as it was. This is hnswlib's resizeIndex done in an order that can fail cleanly: the two large blocks
 * (level 0 and the link-list table) are allocated before anything changes, and the small per-element arrays after
 * them are first tried in memory; resizeIndex itself would realloc in place and throw (trap) half-way.
 */
int32_t grow(Index *ix, uint64_t needed) {
  Hnsw &h = *ix->hnsw;
  if (needed <= h.max_elements_) return X0T_STATUS_OK;
  const uint64_t bpe = bytes_per_element(ix->p);
  uint64_t generous = h.max_elements_ + h.max_elements_ / 2;
  uint64_t targets[2] = {generous > needed ? generous : needed, needed};
  for (uint64_t target : targets) {
    if (target > 0x7FFFFFFFu || target * bpe > 0xFFFF0000u) continue;
    char *data = static_cast<char *>(malloc((size_t)(target * bpe)));
    if (data == nullptr) continue;
    char **links = static_cast<char **>(malloc((size_t)target * sizeof(char *)));
    // element levels, visited list (u16), lock stand-ins, plus room for the inserts that follow
    if (links == nullptr || !can_allocate(target * (sizeof(int) + 2 + 1) + kGrowthSlack)) {
      free(links);
      free(data);
      continue;
    }
    memcpy(data, h.data_level0_memory_, (size_t)(h.cur_element_count * bpe));
    free(h.data_level0_memory_);
    h.data_level0_memory_ = data;
    memcpy(links, h.linkLists_, h.cur_element_count * sizeof(char *));
    free(h.linkLists_);
    h.linkLists_ = links;
    h.visited_list_pool_.reset(nullptr);
    h.visited_list_pool_.reset(new hnswlib::VisitedListPool(1, (int)target));
    h.element_levels_.resize((size_t)target);
    std::vector<std::mutex>((size_t)target).swap(h.link_list_locks_);
    h.max_elements_ = (size_t)target;
    return X0T_STATUS_OK;
  }
  return fail_memory("growing the index", needed, needed * (bpe + sizeof(char *) + 7) + kGrowthSlack);
}

// The C++ sources are compiled with -ffast-math (plugin.json cxxflags): with no NaN or infinity to allow for,
// clang simplifies hnswlib's distance comparisons and the graph walk runs about a tenth faster. So every float that
// enters is checked here, by its bits (isfinite itself may be folded to `true` under -ffast-math), and the +Inf that
// pads short result rows is written as bits too.

/** Whether the f32 with these bits is finite (exponent not all ones). */
inline bool finite_bits(uint32_t bits) { return (bits & 0x7F800000u) != 0x7F800000u; }

bool all_finite(const float *v, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, v + i, 4);
    if (!finite_bits(bits)) return false;
  }
  return true;
}

/** +Inf, the distance of a padding entry. */
inline float positive_infinity() {
  const uint32_t bits = 0x7F800000u;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/** The vector hnswlib should see: `v` itself, or its normalised copy in the scratch buffer for cosine. */
const float *prepared(Index *ix, const float *v) {
  if (ix->p.metric != kMetricCosine) return v;
  uint32_t dim = ix->p.dim;
  float norm = sqrtf(x0t::dot(v, v, dim));
  float scale = norm > 0.0f ? 1.0f / norm : 0.0f;
  for (uint32_t i = 0; i < dim; i++) ix->scratch[i] = v[i] * scale;
  return ix->scratch;
}

int32_t write_info() {
  uint32_t h[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (g_index != nullptr) {
    const Params &p = g_index->p;
    const Hnsw &hn = *g_index->hnsw;
    uint32_t elements = (uint32_t)hn.cur_element_count;
    uint32_t deleted = (uint32_t)hn.num_deleted_;
    h[X0T_IndexInfo_dim] = p.dim;
    h[X0T_IndexInfo_metric] = p.metric;
    h[X0T_IndexInfo_m] = p.m;
    h[X0T_IndexInfo_efConstruction] = p.efConstruction;
    h[X0T_IndexInfo_efSearch] = p.efSearch;
    h[X0T_IndexInfo_capacity] = (uint32_t)hn.max_elements_;
    h[X0T_IndexInfo_count] = elements - deleted;
    h[X0T_IndexInfo_deleted] = deleted;
  }
  uint64_t memory = (uint64_t)__builtin_wasm_memory_size(0) * 65536u;
  h[X0T_IndexInfo_memoryBytes] = memory > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)memory;
  x0t_frame f;
  return x0t_frame_write(&X0T_FRAME_IndexInfo, h, &f);
}

int32_t need_index() {
  return x0t_fail(X0T_STATUS_BAD_INPUT, "no index: call index_init (or index_load) first");
}

int32_t wrong_dim(const char *what, uint32_t got, uint32_t want) {
  x0t_msg_begin();
  x0t_msg_str(what);
  x0t_msg_str(": dim is ");
  x0t_msg_u64(got);
  x0t_msg_str(", the index's is ");
  x0t_msg_u64(want);
  return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
}

int32_t check_params(const Params &p) {
  if (p.dim == 0 || p.dim > kMaxDim) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexConfig: dim must be 1..16384");
  if (p.metric != kMetricL2 && p.metric != kMetricIp && p.metric != kMetricCosine) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexConfig: metric must be 0 (l2), 1 (ip) or 2 (cosine)");
  if (p.m < kMinM || p.m > kMaxM) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexConfig: m must be 2..256");
  if (p.efConstruction == 0 || p.efConstruction > kMaxEf) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexConfig: efConstruction must be 1..1048576");
  if (p.efSearch == 0 || p.efSearch > kMaxEf) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexConfig: efSearch must be 1..1048576");
  return X0T_STATUS_OK;
}

/** Replaces the current index (and drops any save snapshot or half-received image). */
void install(Index *ix) {
  destroy(g_index);
  g_index = ix;
  free_buffer(g_snapshot);
  g_snapshot_len = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// index_info, index_init

int32_t index_info(const uint8_t *, uint32_t) { return write_info(); }

int32_t index_init(const uint8_t *in, uint32_t len) {
  x0t_frame f;
  int32_t s = x0t_frame_decode(&X0T_FRAME_IndexConfig, in, len, &f);
  if (s != X0T_STATUS_OK) return s;
  Params p = {f.header[X0T_IndexConfig_dim], f.header[X0T_IndexConfig_metric], f.header[X0T_IndexConfig_m],
              f.header[X0T_IndexConfig_efConstruction], f.header[X0T_IndexConfig_efSearch], f.header[X0T_IndexConfig_seed]};
  s = check_params(p);
  if (s != X0T_STATUS_OK) return s;
  uint32_t capacity = f.header[X0T_IndexConfig_capacity] == 0 ? kDefaultCapacity : f.header[X0T_IndexConfig_capacity];
  if (capacity > 0x7FFFFFFFu) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexConfig: capacity too large");
  free_buffer(g_staged);
  Index *ix = create(p, capacity);
  if (ix == nullptr) {
    install(nullptr);  // the old index is discarded anyway; its memory may be what the new one needs
    ix = create(p, capacity);
    if (ix == nullptr) return fail_memory("an index", capacity, capacity_bytes(p, capacity));
  }
  install(ix);
  return write_info();
}

// ---------------------------------------------------------------------------------------------------------------
// index_add, index_remove

int32_t index_add(const uint8_t *in, uint32_t len) {
  if (g_index == nullptr) return need_index();
  x0t_frame f;
  int32_t s = x0t_frame_decode(&X0T_FRAME_IndexAdd, in, len, &f);
  if (s != X0T_STATUS_OK) return s;
  Index *ix = g_index;
  Hnsw &h = *ix->hnsw;
  uint32_t n = f.header[X0T_IndexAdd_count];
  uint32_t dim = f.header[X0T_IndexAdd_dim];
  if (n > 0 && dim != ix->p.dim) return wrong_dim("IndexAdd", dim, ix->p.dim);
  const uint8_t *labels = f.section[X0T_IndexAdd_labels];
  const float *vectors = reinterpret_cast<const float *>(f.section[X0T_IndexAdd_vectors]);
  // Everything is checked, and room made, before the index changes.
  if (!all_finite(vectors, (uint64_t)n * dim)) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexAdd: vectors must be finite");
  std::unordered_set<uint32_t> fresh;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t label = x0t_load_u32(labels + 4 * (uint64_t)i);
    if (label == kNoLabel) return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexAdd: label 0xFFFFFFFF is reserved (it pads search results)");
    if (h.label_lookup_.find(label) == h.label_lookup_.end()) fresh.insert(label);
  }
  uint64_t vacant = h.deleted_elements.size();
  if (fresh.size() > vacant) {
    s = grow(ix, (uint64_t)h.cur_element_count + (fresh.size() - vacant));
    if (s != X0T_STATUS_OK) return s;
  }
  free_buffer(g_snapshot);
  for (uint32_t i = 0; i < n; i++) {
    labeltype label = x0t_load_u32(labels + 4 * (uint64_t)i);
    const float *v = prepared(ix, vectors + (uint64_t)i * dim);
    auto found = h.label_lookup_.find(label);
    if (found != h.label_lookup_.end()) {
      tableint id = found->second;
      if (h.isMarkedDeleted(id)) h.unmarkDeletedInternal(id);
      h.updatePoint(v, id, 1.0f);
    } else {
      h.addPoint(v, label, /* replace_deleted */ true);
    }
  }
  return write_info();
}

int32_t index_remove(const uint8_t *in, uint32_t len) {
  if (g_index == nullptr) return need_index();
  x0t_frame f;
  int32_t s = x0t_frame_decode(&X0T_FRAME_LabelList, in, len, &f);
  if (s != X0T_STATUS_OK) return s;
  Hnsw &h = *g_index->hnsw;
  free_buffer(g_snapshot);
  for (uint32_t i = 0; i < f.header[X0T_LabelList_count]; i++) {
    auto found = h.label_lookup_.find(x0t_load_u32(f.section[X0T_LabelList_labels] + 4 * (uint64_t)i));
    if (found != h.label_lookup_.end() && !h.isMarkedDeleted(found->second)) h.markDeletedInternal(found->second);
  }
  return write_info();
}

// ---------------------------------------------------------------------------------------------------------------
// index_search

class BitsetFilter final : public hnswlib::BaseFilterFunctor {
 public:
  BitsetFilter(const uint8_t *bits, uint32_t bytes) : bits_(bits), bytes_(bytes) {}
  bool operator()(labeltype label) override {
    uint64_t byte = label >> 3;
    return byte < bytes_ && ((bits_[byte] >> (label & 7)) & 1) != 0;
  }

 private:
  const uint8_t *bits_;
  uint32_t bytes_;
};

/** The k best (smallest distance) of what is offered, kept sorted; ties keep the earlier offer. */
struct TopK {
  uint32_t k, size;
  uint32_t *labels;
  float *distances;
  void offer(uint32_t label, float d) {
    if (size == k && !(d < distances[k - 1])) return;
    uint32_t i = size < k ? size++ : k - 1;
    while (i > 0 && d < distances[i - 1]) {
      distances[i] = distances[i - 1];
      labels[i] = labels[i - 1];
      i--;
    }
    distances[i] = d;
    labels[i] = label;
  }
};

/** Exact distances to the live labels the filter allows. */
void exact_scan(Index *ix, const float *q, const uint8_t *bits, uint32_t bytes, TopK &top) {
  Hnsw &h = *ix->hnsw;
  for (uint32_t b = 0; b < bytes; b++) {
    uint32_t byte = bits[b];
    while (byte != 0) {
      uint32_t bit = (uint32_t)__builtin_ctz(byte);
      byte &= byte - 1;
      auto found = h.label_lookup_.find((labeltype)b * 8 + bit);
      if (found == h.label_lookup_.end() || h.isMarkedDeleted(found->second)) continue;
      const float *v = reinterpret_cast<const float *>(h.getDataByInternalId(found->second));
      top.offer(b * 8 + bit, ix->space->distance(q, v));
    }
  }
}

uint64_t allowed_upper_bound(const uint8_t *bits, uint32_t bytes) {
  uint64_t n = 0;
  uint32_t i = 0;
  for (; i + 4 <= bytes; i += 4) n += (uint64_t)__builtin_popcount(x0t_load_u32(bits + i));
  for (; i < bytes; i++) n += (uint64_t)__builtin_popcount(bits[i]);
  return n;
}

int32_t index_search(const uint8_t *in, uint32_t len) {
  if (g_index == nullptr) return need_index();
  x0t_frame f;
  int32_t s = x0t_frame_decode(&X0T_FRAME_SearchRequest, in, len, &f);
  if (s != X0T_STATUS_OK) return s;
  Index *ix = g_index;
  Hnsw &h = *ix->hnsw;
  uint32_t queries = f.header[X0T_SearchRequest_queries];
  uint32_t dim = f.header[X0T_SearchRequest_dim];
  uint32_t k = f.header[X0T_SearchRequest_k];
  uint32_t ef = f.header[X0T_SearchRequest_ef];
  uint32_t filter_bytes = f.header[X0T_SearchRequest_filterBytes];
  if (queries > 0 && dim != ix->p.dim) return wrong_dim("SearchRequest", dim, ix->p.dim);
  if (k == 0 || k > kMaxK) return x0t_fail(X0T_STATUS_BAD_INPUT, "SearchRequest: k must be 1..65536");
  if (ef > kMaxEf) return x0t_fail(X0T_STATUS_BAD_INPUT, "SearchRequest: ef must be at most 1048576");
  if ((uint64_t)queries * k > (1u << 22)) return x0t_fail(X0T_STATUS_BAD_INPUT, "SearchRequest: queries × k must be at most 4194304");
  const float *vectors = reinterpret_cast<const float *>(f.section[X0T_SearchRequest_vectors]);
  if (!all_finite(vectors, (uint64_t)queries * dim)) return x0t_fail(X0T_STATUS_BAD_INPUT, "SearchRequest: vectors must be finite");
  const uint8_t *bits = f.section[X0T_SearchRequest_filter];

  uint32_t header[2] = {queries, k};
  x0t_frame out;
  s = x0t_frame_write(&X0T_FRAME_SearchResult, header, &out);
  if (s != X0T_STATUS_OK) return s;
  uint32_t *out_labels = reinterpret_cast<uint32_t *>(out.section[X0T_SearchResult_labels]);
  float *out_distances = reinterpret_cast<float *>(out.section[X0T_SearchResult_distances]);

  h.setEf(ef == 0 ? ix->p.efSearch : ef);
  uint64_t live = h.cur_element_count - h.num_deleted_;
  // A selective filter leaves HNSW's graph walk few reachable allowed nodes; scanning them exactly is faster then
  // and always right.
  bool exact = false;
  if (filter_bytes > 0) {
    uint64_t allowed = allowed_upper_bound(bits, filter_bytes);
    exact = allowed * 50 < live || allowed <= 1000;
  }
  BitsetFilter filter(bits, filter_bytes);
  for (uint32_t qi = 0; qi < queries; qi++) {
    TopK top = {k, 0, out_labels + (uint64_t)qi * k, out_distances + (uint64_t)qi * k};
    const float *q = prepared(ix, vectors + (uint64_t)qi * dim);
    if (exact) {
      exact_scan(ix, q, bits, filter_bytes, top);
    } else if (live > 0) {
      auto found = x0t::search_knn(h, *ix->space, q, k, filter_bytes > 0 ? &filter : nullptr);
      // farthest first; write nearest first
      uint32_t n = (uint32_t)found.size();
      top.size = n;
      while (!found.empty()) {
        n--;
        top.labels[n] = (uint32_t)found.top().second;
        top.distances[n] = found.top().first;
        found.pop();
      }
    }
    for (uint32_t i = top.size; i < k; i++) {
      top.labels[i] = kNoLabel;
      top.distances[i] = positive_infinity();
    }
  }
  h.setEf(ix->p.efSearch);
  return X0T_STATUS_OK;
}

// ---------------------------------------------------------------------------------------------------------------
// index_save, index_load

struct ImageHeader {
  Params p;
  uint32_t count, deleted, entry, bytes_per_element, bytes_per_link_list;
  int32_t max_level;
};

enum { kHDim, kHMetric, kHM, kHEfC, kHEfS, kHSeed, kHCount, kHDeleted, kHMaxLevel, kHEntry, kHBpe, kHBpl, kHZero0, kHZero1 };

/** Serialises the current index into g_snapshot; false when memory is short. */
int32_t take_snapshot() {
  free_buffer(g_snapshot);
  Index *ix = g_index;
  Hnsw &h = *ix->hnsw;
  uint64_t count = h.cur_element_count;
  uint64_t bpe = bytes_per_element(ix->p), bpl = bytes_per_link_list(ix->p);
  uint64_t total = kImageHeader + count * bpe;
  for (uint64_t i = 0; i < count; i++) total += 4 + (uint64_t)h.element_levels_[i] * bpl;
  if (total > 0xFFFFFFFFu) return x0t_fail(X0T_STATUS_INTERNAL, "index_save: the serialised index would exceed 4 GiB");
  g_snapshot = static_cast<uint8_t *>(malloc((size_t)total));
  if (g_snapshot == nullptr) return fail_memory("a save snapshot", count, total);
  g_snapshot_len = (uint32_t)total;
  uint8_t *p = g_snapshot;
  memset(p, 0, kImageHeader);
  memcpy(p, "HNSW", 4);
  p[4] = kImageVersion;
  uint32_t fields[14] = {ix->p.dim, ix->p.metric, ix->p.m, ix->p.efConstruction, ix->p.efSearch, ix->p.seed,
                         (uint32_t)count, (uint32_t)h.num_deleted_, (uint32_t)h.maxlevel_, (uint32_t)h.enterpoint_node_,
                         (uint32_t)bpe, (uint32_t)bpl, 0, 0};
  for (int i = 0; i < 14; i++) x0t_store_u32(p + 8 + 4 * i, fields[i]);
  p += kImageHeader;
  memcpy(p, h.data_level0_memory_, (size_t)(count * bpe));
  p += count * bpe;
  for (uint64_t i = 0; i < count; i++) {
    uint32_t level = (uint32_t)h.element_levels_[i];
    x0t_store_u32(p, level);
    p += 4;
    if (level > 0) {
      memcpy(p, h.linkLists_[i], (size_t)(level * bpl));
      p += level * bpl;
    }
  }
  return X0T_STATUS_OK;
}

int32_t index_save(const uint8_t *in, uint32_t len) {
  if (g_index == nullptr) return need_index();
  x0t_frame f;
  int32_t s = x0t_frame_decode(&X0T_FRAME_SaveRequest, in, len, &f);
  if (s != X0T_STATUS_OK) return s;
  uint32_t offset = f.header[X0T_SaveRequest_offset];
  uint32_t max_bytes = f.header[X0T_SaveRequest_maxBytes];
  if (max_bytes == 0) return x0t_fail(X0T_STATUS_BAD_INPUT, "SaveRequest: maxBytes must be positive");
  if (offset == 0) {
    s = take_snapshot();
    if (s != X0T_STATUS_OK) return s;
  } else if (g_snapshot == nullptr) {
    return x0t_fail(X0T_STATUS_BAD_INPUT, "SaveRequest: no snapshot (the index changed or was never saved); start at offset 0");
  }
  if (offset > g_snapshot_len) return x0t_fail(X0T_STATUS_BAD_INPUT, "SaveRequest: offset is past the end of the snapshot");
  uint32_t n = g_snapshot_len - offset < max_bytes ? g_snapshot_len - offset : max_bytes;
  uint32_t header[3] = {g_snapshot_len, offset, n};
  x0t_frame out;
  s = x0t_frame_write(&X0T_FRAME_IndexChunk, header, &out);
  if (s != X0T_STATUS_OK) return s;
  memcpy(out.section[X0T_IndexChunk_data], g_snapshot + offset, n);
  if (offset + n == g_snapshot_len) free_buffer(g_snapshot);  // the last piece: the host has it all
  return X0T_STATUS_OK;
}

int32_t malformed(const char *why) {
  x0t_msg_begin();
  x0t_msg_str("index_load: malformed index image: ");
  x0t_msg_str(why);
  return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
}

/** Checks a complete image and builds the index it describes into `*out` (the current index is untouched). */
int32_t parse_image(const uint8_t *img, uint32_t len, Index **out) {
  if (len < kImageHeader) return malformed("shorter than its header");
  if (memcmp(img, "HNSW", 4) != 0) return malformed("bad magic");
  if (img[4] != kImageVersion) return malformed("unsupported version");
  if (img[5] != 0 || img[6] != 0 || img[7] != 0) return malformed("non-zero reserved bytes");
  uint32_t v[14];
  for (int i = 0; i < 14; i++) v[i] = x0t_load_u32(img + 8 + 4 * i);
  for (uint32_t i = 8 + 56; i < kImageHeader; i++) {
    if (img[i] != 0) return malformed("non-zero reserved bytes");
  }
  if (v[kHZero0] != 0 || v[kHZero1] != 0) return malformed("non-zero reserved fields");
  Params p = {v[kHDim], v[kHMetric], v[kHM], v[kHEfC], v[kHEfS], v[kHSeed]};
  if (check_params(p) != X0T_STATUS_OK) return malformed("bad parameters");
  uint64_t count = v[kHCount], deleted = v[kHDeleted];
  uint64_t bpe = bytes_per_element(p), bpl = bytes_per_link_list(p);
  if (v[kHBpe] != bpe || v[kHBpl] != bpl) return malformed("element sizes do not match the parameters");
  if (deleted > count) return malformed("more deleted elements than elements");
  if (count > 0x7FFFFFFFu || count * bpe > (uint64_t)len - kImageHeader) return malformed("element count exceeds the image");
  int32_t max_level = (int32_t)v[kHMaxLevel];
  uint32_t entry = v[kHEntry];
  if (count == 0 ? (max_level != -1 || entry != 0xFFFFFFFFu) : (max_level < 0 || max_level > kMaxLevel || entry >= count)) {
    return malformed("bad entry point or top level");
  }
  const uint8_t *level0 = img + kImageHeader;
  const uint32_t max0 = 2 * p.m;
  // The upper-level lists: first their lengths and each element's level, then their links. A link on level l must
  // point to an element that has level l (hnswlib reads that element's list on the same level), and the entry point
  // must be on the top level.
  uint64_t at = kImageHeader + count * bpe;
  int32_t top = -1;
  uint64_t upper_bytes = 0;
  std::vector<uint8_t> levels((size_t)count);
  for (uint64_t i = 0; i < count; i++) {
    if (at + 4 > len) return malformed("truncated link lists");
    uint32_t level = x0t_load_u32(img + at);
    if (level > (uint32_t)kMaxLevel) return malformed("element level too high");
    at += 4;
    if (level * bpl > (uint64_t)len - at) return malformed("truncated link lists");
    levels[(size_t)i] = (uint8_t)level;
    at += level * bpl;
    upper_bytes += level * bpl;
    if ((int32_t)level > top) top = (int32_t)level;
  }
  if (at != len) return malformed("length does not match its contents");
  if (count > 0 && (top != max_level || levels[entry] != (uint32_t)max_level)) {
    return malformed("the entry point is not on the top level");
  }
  at = kImageHeader + count * bpe;
  for (uint64_t i = 0; i < count; i++) {
    at += 4;
    for (uint32_t l = 0; l < levels[(size_t)i]; l++) {
      const uint8_t *list = img + at + l * bpl;
      uint32_t n = list[0] | ((uint32_t)list[1] << 8);
      if (n > p.m || list[2] != 0 || list[3] != 0) return malformed("an upper-level link list is too long or flagged");
      for (uint32_t j = 0; j < n; j++) {
        uint32_t to = x0t_load_u32(list + 4 + 4 * j);
        if (to >= count) return malformed("a link points past the last element");
        if (levels[to] < l + 1) return malformed("a link points to an element below the link's level");
      }
    }
    at += levels[(size_t)i] * bpl;
  }
  // Level 0: link counts and targets, labels, deleted marks, finite vectors.
  uint64_t marked = 0;
  const uint64_t label_offset = bpe - sizeof(labeltype);
  for (uint64_t i = 0; i < count; i++) {
    const uint8_t *e = level0 + i * bpe;
    uint32_t n = e[0] | ((uint32_t)e[1] << 8);
    if (n > max0) return malformed("a level-0 link list is too long");
    if ((e[2] & ~Hnsw::DELETE_MARK) != 0 || e[3] != 0) return malformed("bad element flags");
    if (e[2] & Hnsw::DELETE_MARK) marked++;
    for (uint32_t j = 0; j < n; j++) {
      if (x0t_load_u32(e + 4 + 4 * j) >= count) return malformed("a link points past the last element");
    }
    for (uint32_t d = 0; d < p.dim; d++) {
      if (!finite_bits(x0t_load_u32(e + 4 + 4 * (uint64_t)max0 + 4 * (uint64_t)d))) return malformed("a vector is not finite");
    }
    if (x0t_load_u32(e + label_offset) == kNoLabel) return malformed("reserved label 0xFFFFFFFF");
  }
  if (marked != deleted) return malformed("deleted count does not match the deleted marks");

  uint64_t capacity = count < kDefaultCapacity ? kDefaultCapacity : count;
  if (!can_allocate(capacity_bytes(p, capacity) + upper_bytes + count * 32 + Hnsw::MAX_LABEL_OPERATION_LOCKS + kGrowthSlack)) {
    return fail_memory("loading an index", capacity, capacity_bytes(p, capacity) + upper_bytes);
  }
  Index *ix = create(p, (uint32_t)capacity);
  if (ix == nullptr) return fail_memory("loading an index", capacity, capacity_bytes(p, capacity));
  Hnsw &h = *ix->hnsw;
  memcpy(h.data_level0_memory_, level0, (size_t)(count * bpe));
  at = kImageHeader + count * bpe;
  for (uint64_t i = 0; i < count; i++) {
    uint32_t level = x0t_load_u32(img + at);
    at += 4;
    h.element_levels_[i] = (int)level;
    h.linkLists_[i] = nullptr;
    if (level > 0) {
      h.linkLists_[i] = static_cast<char *>(malloc((size_t)(level * bpl)));
      if (h.linkLists_[i] == nullptr) {
        h.cur_element_count = i;  // so clear() frees what was allocated
        destroy(ix);
        return fail_memory("loading an index", count, upper_bytes);
      }
      memcpy(h.linkLists_[i], img + at, (size_t)(level * bpl));
      at += level * bpl;
    }
  }
  h.cur_element_count = count;
  for (uint64_t i = 0; i < count; i++) {
    labeltype label = x0t_load_u32(level0 + i * bpe + label_offset);
    if (!h.label_lookup_.emplace(label, (tableint)i).second) {
      destroy(ix);
      return malformed("a label appears twice");
    }
    if (level0[i * bpe + 2] & Hnsw::DELETE_MARK) h.deleted_elements.insert((tableint)i);
  }
  h.num_deleted_ = deleted;
  h.maxlevel_ = max_level;
  h.enterpoint_node_ = entry;
  // Later inserts draw levels from a generator that did not see the saved ones; reseeding by count keeps them
  // deterministic for a given image.
  h.level_generator_.seed(p.seed + (uint32_t)count);
  *out = ix;
  return X0T_STATUS_OK;
}

int32_t index_load(const uint8_t *in, uint32_t len) {
  x0t_frame f;
  int32_t s = x0t_frame_decode(&X0T_FRAME_IndexChunk, in, len, &f);
  if (s != X0T_STATUS_OK) return s;
  uint32_t total = f.header[X0T_IndexChunk_totalBytes];
  uint32_t offset = f.header[X0T_IndexChunk_offset];
  uint32_t n = f.header[X0T_IndexChunk_len];
  if (offset == 0) {
    free_buffer(g_staged);
    if (total < kImageHeader) return malformed("shorter than its header");
    g_staged = static_cast<uint8_t *>(malloc(total));
    if (g_staged == nullptr) return fail_memory("receiving an index image", 0, total);
    g_staged_len = total;
    g_staged_have = 0;
  } else if (g_staged == nullptr || total != g_staged_len || offset != g_staged_have) {
    free_buffer(g_staged);
    return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexChunk: pieces must arrive in order with the same totalBytes, from offset 0");
  }
  if (n > g_staged_len - g_staged_have) {
    free_buffer(g_staged);
    return x0t_fail(X0T_STATUS_BAD_INPUT, "IndexChunk: piece runs past totalBytes");
  }
  memcpy(g_staged + g_staged_have, f.section[X0T_IndexChunk_data], n);
  g_staged_have += n;
  if (g_staged_have < g_staged_len) return write_info();
  Index *ix = nullptr;
  s = parse_image(g_staged, g_staged_len, &ix);
  free_buffer(g_staged);
  if (s != X0T_STATUS_OK) return s;
  install(ix);
  return write_info();
}

}  // namespace

X0T_EXPORT(index_info, index_info)
X0T_EXPORT(index_init, index_init)
X0T_EXPORT(index_add, index_add)
X0T_EXPORT(index_remove, index_remove)
X0T_EXPORT(index_search, index_search)
X0T_EXPORT(index_save, index_save)
X0T_EXPORT(index_load, index_load)
