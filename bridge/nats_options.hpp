#pragma once

// nats_credentials (common/nats_credentials.hpp) handed to nats.c: what the bridge's link and
// slicectl's connection both call before they connect (internal to bridge/ and cli/).

#include <string>
#include <string_view>

#include <nats/nats.h>

#include "common/nats_credentials.hpp"

namespace slicegate::bridge {

/// A NATS client's credentials, with what must be read from files before connecting.
struct prepared_credentials {
  nats_credentials config;
  /// The public NKey (`U…`) of the seed in `config.nkey_seed_file`, if one is set.
  std::string nkey_public;
};

/// Checks `c` against `urls` (see `check`) and derives the NKey public key from its seed file.
/// Returns what is wrong, naming the option, or empty.
std::string prepare(const nats_credentials& c, const std::string& urls,
                    prepared_credentials& out);

/// Sets the credentials and TLS options of `c` on `opts`. Returns what nats.c refused, naming
/// the option, or empty.
std::string apply(natsOptions* opts, const prepared_credentials& c);

/// The public key (`U…`, 56 characters) of an NKey user seed (`SU…`, 58 characters); empty
/// if `seed` is not a valid user seed.
std::string nkey_public_key(std::string_view seed);

} // namespace slicegate::bridge
