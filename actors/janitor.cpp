#include "actors/janitor.hpp"

#include <filesystem>
#include <system_error>

#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

namespace stdfs = std::filesystem;

caf::error failure(const std::string& what, const stdfs::path& path,
                   const std::error_code& err) {
  return make_error(ec::internal,
                    "cannot " + what + " " + path.string() + ": " + err.message());
}

/// Removes everything inside `dir` (not `dir` itself, whose owner and mode an operator may
/// have chosen), then makes sure it exists. Symbolic links are removed, never followed.
caf::error empty_directory(const stdfs::path& dir) {
  std::error_code err;
  if (stdfs::is_symlink(dir, err))
    return make_error(ec::internal, dir.string() + " is a symbolic link; refusing to empty it");
  if (stdfs::exists(dir, err)) {
    for (auto i = stdfs::directory_iterator{dir, err}; !err && i != stdfs::directory_iterator{};
         i.increment(err)) {
      std::error_code removed;
      stdfs::remove_all(i->path(), removed);
      if (removed)
        return failure("remove", i->path(), removed);
    }
    if (err)
      return failure("list", dir, err);
  }
  stdfs::create_directories(dir, err);
  if (err)
    return failure("create", dir, err);
  return caf::none;
}

} // namespace

std::string slice_data_dir(const std::string& data_root, int32_t slice_id) {
  return (stdfs::path{data_root} / ("slice-" + std::to_string(slice_id))).string();
}

janitor_actor::behavior_type janitor(janitor_actor::stateful_pointer<janitor_state> self,
                                     std::string data_root) {
  self->state.data_root = std::move(data_root);
  return {
    [self](const fs::empty_slice_dir& x) -> caf::result<std::string> {
      if (x.slice_id <= 0)
        return make_error(ec::invalid_request, "invalid slice id");
      if (self->state.data_root.empty())
        return make_error(ec::invalid_request, "no data root configured");
      auto dir = slice_data_dir(self->state.data_root, x.slice_id);
      if (auto err = empty_directory(dir))
        return err;
      spdlog::debug("janitor emptied {}", dir);
      return dir;
    },
  };
}

} // namespace slicegate
