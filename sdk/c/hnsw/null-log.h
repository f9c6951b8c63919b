// hnswlib writes its few warnings (M > 10000, which the shim refuses first) to HNSWERR, std::cerr by default; naming
// std::cerr would link libc++'s whole iostream machinery into the module. This sink swallows them instead.
#ifndef X0T_NULL_LOG_H
#define X0T_NULL_LOG_H

#include <ostream>

namespace x0t {
struct NullLog {
  template <class T>
  const NullLog &operator<<(const T &) const { return *this; }
  const NullLog &operator<<(std::ostream &(*)(std::ostream &)) const { return *this; }
};
inline constexpr NullLog null_log{};
}  // namespace x0t

#define HNSWLIB_ERR_OVERRIDE x0t::null_log

#endif
