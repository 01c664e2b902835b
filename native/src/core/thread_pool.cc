#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "core/cpu_features.h"
#include "core/errors.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define BITNET_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define BITNET_PAUSE() __asm__ volatile("yield")
#else
#define BITNET_PAUSE() ((void)0)
#endif

namespace bitnet {
namespace {
// Kernel calls come in bursts with JavaScript between them (autograd bookkeeping in training,
// sampling in decoding): a worker spins this long after a job before it sleeps, so the hand-off
// stays at a few hundred nanoseconds through those gaps without burning a core while the
// notebook is idle. Waking a sleeping worker cost 33-53 us on a 2-vCPU KVM guest (900 us when
// both vCPUs had idled), and the previous 20000 pauses (~0.3 ms on Zen 5, less on CPUs with a
// short pause) let workers fall asleep between the kernels of one training step.
constexpr auto kSpin = std::chrono::milliseconds(5);
// Pauses between clock reads while spinning.
constexpr int kSpinBatch = 64;

// Spins until done() or kSpin has passed; returns done().
template <class Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < kSpinBatch; ++i) {
      if (done()) return true;
      BITNET_PAUSE();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}
}  // namespace

ThreadPool::ThreadPool(int threads) { start(threads); }

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::start(int threads) {
  threads_ = threads;
  stopping_.store(false);
  // The generation is read here, not in the new thread: a job submitted before the thread runs
  // must still count as new to it.
  const unsigned long long generation = generation_.load();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i, generation] { worker(i, generation); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

void ThreadPool::resize(int threads) {
  std::lock_guard<std::mutex> lock(run_mutex_);
  if (threads == threads_) return;
  stop();
  start(threads);
}

void ThreadPool::worker(int index, unsigned long long seen) {
  for (;;) {
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
    const std::function<void(int)>* job;
    int parties;
    {
      // Generation, job and party count are read as one snapshot: a worker that woke late must
      // not pair an old generation with a newer job and run it twice.
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      seen = generation_.load();
      if (stopping_.load()) return;
      job = job_;
      parties = parties_;
    }
    if (index < parties) {
      try {
        (*job)(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
}

void ThreadPool::run(int parties, const std::function<void(int)>& fn) {
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  parties = std::max(1, std::min(parties, threads_));
  if (parties == 1) {
    fn(0);
    return;
  }
  error_ = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    parties_ = parties;
    pending_.store(parties - 1, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  std::exception_ptr own;
  try {
    fn(0);
  } catch (...) {
    own = std::current_exception();
  }
  const auto done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  while (!spin_until(done)) std::this_thread::yield();
  if (own) std::rethrow_exception(own);
  if (error_) std::rethrow_exception(error_);
}

namespace {
int default_threads() {
  const char* env = std::getenv("BITNET_NUM_THREADS");
  if (env != nullptr && *env != 0) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == 0 && v >= 1 && v <= kMaxThreads) return static_cast<int>(v);
  }
  return std::min(cpu_features().default_threads, kMaxThreads);
}
}  // namespace

ThreadPool& thread_pool() {
  // Never destroyed: worker threads must not be joined from a static destructor while Node
  // tears the process down.
  static ThreadPool* pool = new ThreadPool(default_threads());
  return *pool;
}

int num_threads() { return thread_pool().size(); }

void set_num_threads(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw RangeError("threads must be an integer in [1, " + std::to_string(kMaxThreads) +
                     "], received " + std::to_string(threads));
  }
  thread_pool().resize(threads);
}

void parallel_for(size_t n, size_t min_chunk, const std::function<void(size_t, size_t)>& fn) {
  parallel_for_indexed(n, min_chunk, [&](size_t b, size_t e, int) { fn(b, e); });
}

void parallel_for_indexed(size_t n, size_t min_chunk, const std::function<void(size_t, size_t, int)>& fn) {
  if (n == 0) return;
  min_chunk = std::max<size_t>(1, min_chunk);
  size_t parties = std::min<size_t>(static_cast<size_t>(num_threads()), (n + min_chunk - 1) / min_chunk);
  parties = std::max<size_t>(1, parties);
  if (parties == 1) {
    fn(0, n, 0);
    return;
  }
  thread_pool().run(static_cast<int>(parties), [&](int t) {
    size_t begin = n * static_cast<size_t>(t) / parties;
    size_t end = n * (static_cast<size_t>(t) + 1) / parties;
    if (begin < end) fn(begin, end, t);
  });
}

}  // namespace bitnet
