// Clang's thread-safety annotations, as LevelDB and Abseil spell them: the
// lock rules written into the code (which mutex guards a member, which
// functions must hold it), checked at compile time by clang's
// -Wthread-safety (the `threadsafety` preset; the test command builds it).
// Under other compilers they expand to nothing.
//
// Thread safety: macros only.
#pragma once

#if defined(__clang__)
#define CTC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CTC_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (Mutex).
#define CAPABILITY(x) CTC_THREAD_ANNOTATION(capability(x))
// An RAII holder of a lock (MutexLock).
#define SCOPED_CAPABILITY CTC_THREAD_ANNOTATION(scoped_lockable)
// The member is read and written only with the mutex held.
#define GUARDED_BY(x) CTC_THREAD_ANNOTATION(guarded_by(x))
// What the pointer points to is guarded by the mutex.
#define PT_GUARDED_BY(x) CTC_THREAD_ANNOTATION(pt_guarded_by(x))
// The caller must hold the mutex (exclusively).
#define REQUIRES(...) CTC_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The caller must not hold the mutex (the function takes it).
#define EXCLUDES(...) CTC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) CTC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CTC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) \
  CTC_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// For the few places the analysis cannot follow (say why at each).
#define NO_THREAD_SAFETY_ANALYSIS \
  CTC_THREAD_ANNOTATION(no_thread_safety_analysis)
