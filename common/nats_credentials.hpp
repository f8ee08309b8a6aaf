#pragma once

// How a NATS client proves who it is and protects the connection, named as the NATS ecosystem
// names it: user and password, a token, an NKey seed file, a `.creds` file (user JWT and
// seed), and TLS with a CA, a client certificate and its key. A plain struct that the daemon
// (through bridge_config) and slicectl fill from their settings; bridge/nats_options.hpp hands
// it to nats.c. Shared by every layer; depends on nothing of slicegate's.

#include <string>

namespace slicegate {

/// A NATS client's credentials and TLS options. Empty strings mean "not set".
struct nats_credentials {
  /// User and password (`authorization { users = [...] }` of nats-server).
  std::string user;
  std::string password;
  /// A token (`authorization { token: ... }`).
  std::string token;
  /// File holding an NKey user seed (`SU…`); the public key is derived from it.
  std::string nkey_seed_file;
  /// A `.creds` file: a user JWT and its NKey seed (decentralised auth with an operator).
  std::string creds_file;
  /// Require TLS, trusting the system's CAs unless `tls_ca` is set.
  bool tls = false;
  /// CA certificates (PEM) that the server's certificate must chain to; implies TLS.
  std::string tls_ca;
  /// Client certificate chain and its private key (PEM), for servers that verify clients;
  /// both or neither; implies TLS.
  std::string tls_cert;
  std::string tls_key;

  /// Whether any TLS option asks for TLS.
  bool wants_tls() const {
    return tls || !tls_ca.empty() || !tls_cert.empty() || !tls_key.empty();
  }
};

/// What is wrong with `c` used with `urls`, naming the options (`--nats-token`, …), or empty.
/// Checks that at most one way to authenticate is chosen (the URL's own `user:password@` or
/// `token@` counts as one), that user and password come together as do certificate and key,
/// and that every file named can be read.
std::string check(const nats_credentials& c, const std::string& urls);

/// How `c` authenticates, for logs: "user slicegate with a password, TLS with CA /etc/ca.pem".
/// Never a password, a token or a seed.
std::string describe(const nats_credentials& c);

} // namespace slicegate
