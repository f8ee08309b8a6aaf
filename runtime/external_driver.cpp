#include "runtime/external_driver.hpp"

namespace slicegate {

std::string external_driver::name() const {
  return "external";
}

caf::error external_driver::start(const slice_spec& spec) {
  // A bad spec is still a caller's bug, whoever runs the slice.
  return validate(spec);
}

caf::error external_driver::stop(int32_t) {
  return {};
}

caf::error external_driver::restart(const slice_spec& spec) {
  return validate(spec);
}

caf::error external_driver::remove(int32_t) {
  return {};
}

caf::expected<slice_usage> external_driver::usage(int32_t) {
  return slice_usage{};
}

caf::expected<bool> external_driver::running(int32_t) {
  // Whether it answers is the health probe's business; here nothing says otherwise.
  return true;
}

std::vector<rt::exited> external_driver::reap() {
  return {};
}

} // namespace slicegate
