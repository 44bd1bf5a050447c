#include "sim/memory.hpp"

#include <cstdlib> // on glibc, defines __GLIBC__

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace eisim {

void keep_freed_memory() {
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, -1);       // never give the top of the heap back
    mallopt(M_MMAP_THRESHOLD, 32 << 20); // blocks below 32 MiB from the heap
#endif
}

} // namespace eisim
