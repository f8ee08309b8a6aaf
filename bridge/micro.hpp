#pragma once

// The NATS micro protocol (ADR-32), which nats.c 3.4.1 lacks: the JSON bodies of the answers
// to `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS`, so that standard tooling (`nats micro ls`,
// `nats micro stats`) lists slicegate's endpoints and their request counts.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/timestamp.hpp>

#include "bridge/codec.hpp"

namespace slicegate::micro {

/// Who answers.
struct identity {
  std::string name;
  std::string id;
  std::string version;
  std::string description;
  /// String values only, as the protocol defines metadata.
  std::map<std::string, std::string> metadata;
};

/// One endpoint's statistics.
struct endpoint_stats {
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string last_error;
  /// Total time from receipt to reply.
  caf::timespan processing_time{0};
};

/// One endpoint as INFO and STATS list it.
struct endpoint {
  std::string name;
  std::string subject;
  std::string queue_group;
  endpoint_stats stats;
};

/// `{"type": "io.nats.micro.v1.ping_response", name, id, version, metadata}`.
codec::json ping_response(const identity& who);

/// `{"type": "io.nats.micro.v1.info_response", name, id, version, metadata, description,
/// endpoints: [{name, subject, queue_group, metadata}]}`.
codec::json info_response(const identity& who, const std::vector<endpoint>& endpoints);

/// `{"type": "io.nats.micro.v1.stats_response", name, id, version, metadata, started,
/// endpoints: [{name, subject, queue_group, num_requests, num_errors, last_error,
/// processing_time, average_processing_time, data}]}`; times in nanoseconds.
codec::json stats_response(const identity& who, caf::timestamp started,
                           const std::vector<endpoint>& endpoints);

/// A random instance id: 22 characters of [0-9A-Za-z], like a NUID.
std::string random_id();

} // namespace slicegate::micro
