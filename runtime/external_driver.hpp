#pragma once

#include "runtime/driver.hpp"

namespace slicegate {

/// Slices run by someone else (another host, an orchestrator): slicegate only watches and
/// records. Starting and stopping succeed without doing anything, every slice counts as
/// running, and memory and CPU are unknown.
class external_driver : public runtime_driver {
public:
  std::string name() const override;
  caf::error start(const slice_spec& spec) override;
  caf::error stop(int32_t slice_id) override;
  caf::error restart(const slice_spec& spec) override;
  caf::error remove(int32_t slice_id) override;
  caf::expected<slice_usage> usage(int32_t slice_id) override;
  caf::expected<bool> running(int32_t slice_id) override;
  std::vector<rt::exited> reap() override;
};

} // namespace slicegate
