// Zeroed memory for the arrays of the large open-addressing tables
// (base/open_table.h). A table of millions of flows is one random-access
// array of over 100 MiB: with 4 KiB pages every event misses the TLB as
// well as the cache, and on a virtual machine that miss walks two levels of
// page tables. Arrays from kHugeBytes up are mapped on 2 MiB boundaries and
// advised MADV_HUGEPAGE, so transparent hugepages back them whenever the
// system allows it (`enabled` set to madvise or always); smaller ones come
// from calloc. Either way the memory is zero and untouched until written.
//
// Thread safety: both functions may be called from any thread.
#pragma once

#include <cstddef>

namespace ctcollect {

// Arrays of at least this many bytes are mapped on their own, hugepage
// aligned: below it a hugepage would hold mostly unused memory.
inline constexpr size_t kHugeBytes = size_t{4} << 20;

// `bytes` of zeroed memory, aligned for any record type. Aborts when the
// memory cannot be had (as operator new would throw; the tables' callers
// run where nothing may throw).
void* AllocateTableMemory(size_t bytes);

// Returns what AllocateTableMemory(bytes) gave; nullptr is ignored.
void FreeTableMemory(void* p, size_t bytes);

}  // namespace ctcollect
