// Query-time k-NN search over hnswlib's graph (hnswlib's data structures, this shim's loop) that requests the vectors
// of a node's unvisited neighbours all at once and then computes their distances two at a time.
//
// Why: hnswlib's searchKnn takes one neighbour, computes its distance, decides on it, then takes the next. Natively it
// prefetches the next neighbour's vector while it works on this one; wasm has no prefetch instruction, so there every
// distance waits for its vector's cache lines, and on data that does not fit in the cache (a 20k × 384 index is
// 34 MB) that wait is most of a query. Here the unvisited neighbours of a node are gathered first, every line of
// their vectors is requested with independent loads (warm), their distances are computed in pairs, and then the
// decisions are made in hnswlib's order with hnswlib's rules (searchKnn, searchBaseLayerST of hnswlib 0.8). Each
// vector's sum is formed in the same order as the single kernel's, so the walk is searchKnn's: the same labels in the
// same order (a test compares the two builds; -ffast-math may still round a distance's last bits differently).
// Measured on 20k random 384-d vectors, one query at a time, unmetered, on the main thread, interleaved with
// hnswlib-node on the same graph parameters: hnswlib's loop 0.82–0.88× hnswlib-node, pairs alone ~1.02×, pairs after
// warm 1.09–1.16×.
//
// Build with X0T_HNSW_HNSWLIB_SEARCH defined to use hnswlib's searchKnn instead (the reference the test compares to).
#ifndef X0T_PAIRED_SEARCH_H
#define X0T_PAIRED_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include <limits>
#include <queue>
#include <utility>
#include <vector>

#include "hnswlib.h"
#include "simd-distance.h"

namespace x0t {

using HnswF = hnswlib::HierarchicalNSW<float>;
using DistId = std::pair<float, hnswlib::tableint>;
using DistQueue = std::priority_queue<DistId, std::vector<DistId>, HnswF::CompareByFirst>;

/** The most links one node's level-0 list can hold with this shim's largest M (2 × 256). */
constexpr size_t kMaxLinks = 512;

inline const float *vector_of(const HnswF &h, hnswlib::tableint id) {
  return reinterpret_cast<const float *>(h.getDataByInternalId(id));
}

/** Where warm() leaves what it read, so that its loads are not optimised away. */
static volatile uint32_t g_warm_sink;

/**
 * Brings the vectors of `ids[0..n)` into the cache before they are measured: one plain load per 64-byte line, none
 * depending on another, so the CPU keeps many misses in flight at once (a prefetch, which wasm lacks, by other
 * means). The distance kernel then reads from the cache instead of waiting for each line in turn.
 */
inline void warm(const HnswF &h, const hnswlib::tableint *ids, size_t n, size_t dim) {
  uint32_t sink = 0;
  for (size_t j = 0; j < n; j++) {
    const uint32_t *v = reinterpret_cast<const uint32_t *>(vector_of(h, ids[j]));
    size_t word = 0;  // 16 words: one line; four lines per step keep the loop short when it is metered
    for (; word + 64 <= dim; word += 64) sink ^= v[word] ^ v[word + 16] ^ v[word + 32] ^ v[word + 48];
    for (; word < dim; word += 16) sink ^= v[word];
  }
  g_warm_sink = sink;
}

/** Distances from `q` to the vectors of `ids[0..n)`, two at a time. */
inline void distances_to(const HnswF &h, const SimdSpace &space, const float *q, const hnswlib::tableint *ids, size_t n,
                         float *out) {
  size_t i = 0;
  for (; i + 2 <= n; i += 2) space.distance2(q, vector_of(h, ids[i]), vector_of(h, ids[i + 1]), out + i);
  if (i < n) out[i] = space.distance(q, vector_of(h, ids[i]));
}

/**
 * hnswlib's level-0 search from `ep` for the `ef` nearest (searchBaseLayerST). `kPlain`: no deleted elements and no
 * filter, so every visited element may enter the result.
 */
template <bool kPlain>
DistQueue search_level0(const HnswF &h, const SimdSpace &space, hnswlib::tableint ep, const float *q, size_t ef,
                        hnswlib::BaseFilterFunctor *allow) {
  hnswlib::VisitedList *vl = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type *visited = vl->mass;
  const hnswlib::vl_type tag = vl->curV;
  auto usable = [&](hnswlib::tableint id) {
    return kPlain || (!h.isMarkedDeleted(id) && (allow == nullptr || (*allow)(h.getExternalLabel(id))));
  };

  DistQueue top, candidates;
  float lower;
  if (usable(ep)) {
    float d = space.distance(q, vector_of(h, ep));
    lower = d;
    top.emplace(d, ep);
    candidates.emplace(-d, ep);
  } else {
    lower = std::numeric_limits<float>::max();
    candidates.emplace(-lower, ep);
  }
  visited[ep] = tag;

  hnswlib::tableint fresh[kMaxLinks];
  float dist[kMaxLinks];
  while (!candidates.empty()) {
    DistId current = candidates.top();
    float candidate_dist = -current.first;
    if (kPlain ? candidate_dist > lower : (candidate_dist > lower && top.size() == ef)) break;
    candidates.pop();

    hnswlib::linklistsizeint *list = h.get_linklist0(current.second);
    size_t size = h.getListCount(list);
    const hnswlib::tableint *links = reinterpret_cast<const hnswlib::tableint *>(list + 1);
    size_t n = 0;
    for (size_t j = 0; j < size; j++) {
      hnswlib::tableint c = links[j];
      if (visited[c] == tag) continue;
      visited[c] = tag;
      fresh[n++] = c;
    }
    warm(h, fresh, n, space.dim());
    distances_to(h, space, q, fresh, n, dist);
    for (size_t j = 0; j < n; j++) {
      float d = dist[j];
      if (top.size() < ef || lower > d) {
        candidates.emplace(-d, fresh[j]);
        if (usable(fresh[j])) top.emplace(d, fresh[j]);
        while (top.size() > ef) top.pop();
        if (!top.empty()) lower = top.top().first;
      }
    }
  }
  h.visited_list_pool_->releaseVisitedList(vl);
  return top;
}

/** The `k` nearest, farthest first (searchKnn's order), as (distance, label). */
inline std::priority_queue<std::pair<float, hnswlib::labeltype>> search_knn(const HnswF &h, const SimdSpace &space,
                                                                           const float *q, size_t k,
                                                                           hnswlib::BaseFilterFunctor *allow) {
#ifdef X0T_HNSW_HNSWLIB_SEARCH
  (void)space;
  return h.searchKnn(q, k, allow);
#else
  std::priority_queue<std::pair<float, hnswlib::labeltype>> result;
  if (h.cur_element_count == 0) return result;

  // Greedy descent through the upper levels, as searchKnn does it (the whole list is scanned, then the walk moves).
  hnswlib::tableint current = h.enterpoint_node_;
  float current_dist = space.distance(q, vector_of(h, current));
  float dist[kMaxLinks];
  for (int level = h.maxlevel_; level > 0; level--) {
    bool changed = true;
    while (changed) {
      changed = false;
      hnswlib::linklistsizeint *list = h.get_linklist(current, level);
      size_t size = h.getListCount(list);
      const hnswlib::tableint *links = reinterpret_cast<const hnswlib::tableint *>(list + 1);
      distances_to(h, space, q, links, size, dist);
      for (size_t i = 0; i < size; i++) {
        if (dist[i] < current_dist) {
          current_dist = dist[i];
          current = links[i];
          changed = true;
        }
      }
    }
  }

  size_t ef = h.ef_ > k ? h.ef_ : k;
  DistQueue top = (h.num_deleted_ == 0 && allow == nullptr) ? search_level0<true>(h, space, current, q, ef, allow)
                                                             : search_level0<false>(h, space, current, q, ef, allow);
  while (top.size() > k) top.pop();
  while (!top.empty()) {
    result.emplace(top.top().first, h.getExternalLabel(top.top().second));
    top.pop();
  }
  return result;
#endif
}

}  // namespace x0t

#endif
