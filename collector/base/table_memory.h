// Zeroed memory for the arrays of the large open-addressing tables
// (base/open_table.h). A table of millions of flows is one random-access
// array of over 100 MiB: with 4 KiB pages every event misses the TLB as
// well as the cache, and on a virtual machine that miss walks two levels of
// page tables. Arrays from kHugeBytes up are mapped on 2 MiB boundaries and
// advised MADV_HUGEPAGE, so transparent hugepages back them whenever the
// system allows it (`enabled` set to madvise or always); smaller ones come
// from calloc. Either way the memory is zero and untouched until written.
//
// Thread safety: both functions may be called from any thread;
// SpareTableMemory belongs to one owner thread (its helper thread is its
// own business).
#pragma once

#include <cstddef>
#include <thread>

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

// The next, larger array of a growing table, mapped and faulted in on a
// thread of its own before the table needs it. A table that doubles copies
// its records into fresh memory, and the page faults of that memory were
// most of the copy: on this project's VM the first touch of 128 MiB took
// 0.59 s (the hypervisor backing memory the guest had not used), 13 ms
// when the pages came back from a free. The owner thread stalled that long
// in the middle of an event storm, and the kernel dropped events (issue
// 18). With the spare made ahead, the copy is all the owner does.
class SpareTableMemory {
 public:
  SpareTableMemory() = default;
  ~SpareTableMemory() { Drop(); }
  SpareTableMemory(const SpareTableMemory&) = delete;
  SpareTableMemory& operator=(const SpareTableMemory&) = delete;

  // Starts making `bytes` of zeroed, resident memory on a helper thread,
  // unless an array of that size is already made or being made; one of
  // another size is dropped first.
  void Prepare(size_t bytes);
  // The array made for exactly `bytes` (waiting for the helper if it is
  // still at work), to be freed with FreeTableMemory; else nullptr, and a
  // spare of another size is dropped.
  void* Take(size_t bytes);
  // Frees the spare (after the helper, if any, is done).
  void Drop();
  // The spare's size, made or being made; 0 without one.
  size_t bytes() const { return bytes_; }

 private:
  void Join();
  std::thread maker_;
  void* mem_ = nullptr;  // written by maker_, read only after joining it
  size_t bytes_ = 0;
};

}  // namespace ctcollect
