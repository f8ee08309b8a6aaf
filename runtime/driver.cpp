#include "runtime/driver.hpp"

#include <filesystem>
#include <system_error>

#include "messages/error.hpp"
#include "runtime/docker_driver.hpp"
#include "runtime/external_driver.hpp"
#include "runtime/process_driver.hpp"

namespace slicegate {

runtime_driver::~runtime_driver() = default;

caf::error runtime_driver::restart(const slice_spec& spec) {
  if (auto err = validate(spec))
    return err;
  if (auto err = stop(spec.slice_id))
    return err;
  return start(spec);
}

caf::expected<bool> runtime_driver::adopt(int32_t slice_id, const std::string&) {
  return running(slice_id);
}

caf::expected<std::unique_ptr<runtime_driver>> make_runtime_driver(const runtime_config& cfg) {
  if (cfg.kind == "process") {
    if (cfg.slice_command.empty())
      return make_error(ec::invalid_request, "the process runtime needs a slice-command");
    return std::unique_ptr<runtime_driver>{std::make_unique<process_driver>(cfg)};
  }
  if (cfg.kind == "docker") {
    if (cfg.docker_image.empty())
      return make_error(ec::invalid_request, "the docker runtime needs a docker-image");
    return std::unique_ptr<runtime_driver>{std::make_unique<docker_driver>(cfg)};
  }
  if (cfg.kind == "external")
    return std::unique_ptr<runtime_driver>{std::make_unique<external_driver>()};
  return make_error(ec::invalid_request,
                    "unknown runtime '" + cfg.kind + "' (process, docker or external)");
}

caf::error validate(const slice_spec& spec) {
  if (spec.slice_id <= 0)
    return make_error(ec::invalid_request,
                      "slice id must be positive, not " + std::to_string(spec.slice_id));
  if (spec.port <= 0 || spec.port > 65535)
    return make_error(ec::invalid_request, "slice " + std::to_string(spec.slice_id)
                                             + " has no valid port: "
                                             + std::to_string(spec.port));
  if (spec.data_dir.empty())
    return make_error(ec::invalid_request,
                      "slice " + std::to_string(spec.slice_id) + " has no data directory");
  return {};
}

caf::error ensure_directory(const std::string& path) {
  std::error_code err;
  std::filesystem::create_directories(path, err);
  if (err)
    return make_error(ec::internal, "cannot create directory " + path + ": " + err.message());
  return {};
}

optional<double> cpu_percent(std::chrono::microseconds used, std::chrono::microseconds wall) {
  if (wall.count() <= 0 || used.count() < 0)
    return caf::none;
  return 100.0 * static_cast<double>(used.count()) / static_cast<double>(wall.count());
}

} // namespace slicegate
