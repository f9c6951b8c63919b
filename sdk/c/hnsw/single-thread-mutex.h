// Force-included into every C++ source of this plugin (plugin.json cxxflags "-include"). Debian's wasm32 libc++ is
// built without threads, so <mutex> declares no std::mutex / std::unique_lock / std::defer_lock; hnswlib locks
// around every operation. A plugin instance runs one call at a time on one thread, so locking has nothing to
// exclude: these stand-ins do nothing and let hnswlib's headers compile unmodified.
#ifndef X0T_SINGLE_THREAD_MUTEX_H
#define X0T_SINGLE_THREAD_MUTEX_H

#include <mutex>

namespace std {

class mutex {
 public:
  constexpr mutex() noexcept = default;
  mutex(const mutex &) = delete;
  mutex &operator=(const mutex &) = delete;
  void lock() noexcept {}
  void unlock() noexcept {}
  bool try_lock() noexcept { return true; }
};

struct defer_lock_t {
  explicit defer_lock_t() = default;
};
inline constexpr defer_lock_t defer_lock{};

template <class M>
class unique_lock {
 public:
  explicit unique_lock(M &) noexcept {}
  unique_lock(M &, defer_lock_t) noexcept {}
  void lock() noexcept {}
  void unlock() noexcept {}
};

template <class M>
class lock_guard {
 public:
  explicit lock_guard(M &) noexcept {}
};

}  // namespace std

#endif
