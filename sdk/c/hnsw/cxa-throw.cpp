// What a C++ `throw` (and a fatal C++ runtime error) does in this plugin. Debian's wasm32 libc++abi has no exception runtime and wasm32 (without the
// exception-handling proposal) cannot unwind, so hnswlib's `throw std::runtime_error(...)` could not even link. The
// shim checks every condition hnswlib would throw on before calling it (capacity, labels, deleted marks), so a throw
// here is a bug or memory exhaustion in the middle of an insert: it traps, the host reports the trap and restarts the
// instance with an empty index, which the host adapter notices and reloads (host/kb/vector-index.ts).
#include <stddef.h>
#include <stdlib.h>

extern "C" {

void *__cxa_allocate_exception(size_t size) noexcept {
  void *p = malloc(size);
  if (p == nullptr) __builtin_trap();
  return p;
}

void __cxa_free_exception(void *p) noexcept { free(p); }

[[noreturn]] void __cxa_throw(void *, void *, void (*)(void *)) { __builtin_trap(); }

// libc++abi's last words before std::terminate or a pure virtual call: printed to stderr, which would pull in stdio
// and its WASI imports. A plugin has no stderr; the trap is the report.
[[noreturn]] void abort_message(const char *, ...) { __builtin_trap(); }

}
