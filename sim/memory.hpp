#pragma once
// The process's allocator, set once by an executable's main (eisim, eisim_bench): a library does
// not change it for its host (the Python module leaves the interpreter's as it is).
namespace eisim {

/// Keep freed memory for the next forward pass. Every pass allocates its trajectory (a matrix per
/// step) and frees it after; glibc would hand the freed top of the heap back to the system (above
/// 128 KiB) and the next pass would fault it in again page by page: half of eisim observe's time
/// and a third of a small run's went to those faults (BENCHMARKS.md, "Observe and run: fewer page
/// faults"). The peak RSS is unchanged: the next pass needs as much. Setting glibc's trim
/// threshold also stops it raising its mmap threshold by itself, which would then map and unmap
/// every state matrix of a large network, so blocks below 32 MiB are taken from the heap too.
/// Does nothing on other C libraries.
void keep_freed_memory();

} // namespace eisim
