// A persistent pool of worker threads with static partitioning: chunk i of a parallel_for always
// covers the same index range for a given (n, threads), so results never depend on scheduling.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bitnet {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }
  // Stops and restarts the workers; serialised with run().
  void resize(int threads);
  // Calls fn(t) for t in [0, parties) with parties <= size(); the caller runs t = 0.
  void run(int parties, const std::function<void(int)>& fn);

 private:
  void start(int threads);
  void stop();
  void worker(int index, unsigned long long seen);

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one job at a time, whichever thread submits it
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<unsigned long long> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  const std::function<void(int)>* job_ = nullptr;
  int parties_ = 0;
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

ThreadPool& thread_pool();
int num_threads();
// Throws bitnet::RangeError outside [1, kMaxThreads].
void set_num_threads(int threads);
constexpr int kMaxThreads = 512;

// Splits [0, n) into at most num_threads() equal contiguous chunks (never smaller than
// `min_chunk` items) and calls fn(begin, end) for each.
void parallel_for(size_t n, size_t min_chunk, const std::function<void(size_t, size_t)>& fn);
// Same split, also passing the chunk's party index t (0 <= t < num_threads()), for per-thread
// scratch.
void parallel_for_indexed(size_t n, size_t min_chunk, const std::function<void(size_t, size_t, int)>& fn);

}  // namespace bitnet
