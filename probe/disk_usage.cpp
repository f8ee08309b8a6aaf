#include "probe/disk_usage.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <sys/stat.h>
#include <utility>
#include <vector>

#include "messages/error.hpp"

namespace slicegate::probe {

namespace fs = std::filesystem;

namespace {

/// `st_blocks` counts 512-byte units whatever the file system's block size (POSIX).
constexpr int64_t stat_block_bytes = 512;

} // namespace

caf::expected<int64_t> disk_usage(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return make_error(ec::not_found, "no such directory: " + path);
    return make_error(ec::internal, "cannot read " + path + ": " + std::strerror(errno));
  }
  int64_t total = st.st_blocks * stat_block_bytes;
  // Files with several links, by device and inode: du counts each once.
  std::set<std::pair<dev_t, ino_t>> linked;
  // An explicit stack instead of recursive_directory_iterator: a subdirectory that vanishes
  // or refuses to open is skipped, where that iterator would end the whole walk.
  std::vector<fs::path> pending;
  if (S_ISDIR(st.st_mode))
    pending.emplace_back(path);
  while (!pending.empty()) {
    auto dir = std::move(pending.back());
    pending.pop_back();
    std::error_code err;
    for (fs::directory_iterator i{dir, err}, end; !err && i != end; i.increment(err)) {
      if (::lstat(i->path().c_str(), &st) != 0)
        continue;
      if (S_ISDIR(st.st_mode))
        pending.push_back(i->path());
      else if (st.st_nlink > 1 && !linked.emplace(st.st_dev, st.st_ino).second)
        continue;
      total += st.st_blocks * stat_block_bytes;
    }
  }
  return total;
}

} // namespace slicegate::probe
