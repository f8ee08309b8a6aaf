#include "messages/admin.hpp"

#include <chrono>

namespace slicegate::admin {

namespace {

/// The start of the bucket holding `t`: floor division, also before the epoch.
int64_t bucket_index(timestamp t, int64_t b) {
  auto s = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  return s >= 0 ? s / b : -((-s + b - 1) / b);
}

} // namespace

int64_t bucket_count(const series_range& x) {
  if (x.bucket_seconds <= 0 || x.to <= x.from)
    return 0;
  // `to` is exclusive: the last bucket is the one holding the instant just before it.
  auto last = x.to - std::chrono::microseconds{1};
  return bucket_index(last, x.bucket_seconds) - bucket_index(x.from, x.bucket_seconds) + 1;
}

} // namespace slicegate::admin
