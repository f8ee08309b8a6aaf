#include "actors/hasher.hpp"

#include <algorithm>
#include <array>
#include <crypt.h>
#include <cstdio>
#include <memory>
#include <pthread.h>
#include <sched.h>
#include <thread>

#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

/// libxcrypt's scratch space: 32 KB, too large to want on every stack that calls us, and
/// wiped after each use because it held key material.
struct scratch {
  std::unique_ptr<crypt_data> data = std::make_unique<crypt_data>();

  ~scratch() {
    OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  }

  /// Runs crypt_rn; copies the result out before the scratch is wiped.
  std::optional<std::string> crypt(const std::string& phrase, const std::string& setting) {
    auto result = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
    std::optional<std::string> out;
    if (result != nullptr)
      out.emplace(result);
    OPENSSL_cleanse(data.get(), sizeof(crypt_data));
    return out;
  }
};

/// A std::string that wipes its bytes when it goes away (a copy of a password, NUL-ended
/// for the C API).
struct secret {
  std::string text;
  explicit secret(std::string_view x) : text(x) {}
  ~secret() {
    OPENSSL_cleanse(text.data(), text.size());
  }
};

bool has_nul(std::string_view x) {
  return x.find('\0') != std::string_view::npos;
}

std::optional<std::string> hash_with(scratch& s, std::string_view password, int cost) {
  if (has_nul(password))
    return std::nullopt;
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  // NULL random bytes: libxcrypt draws the salt from the OS CSPRNG itself.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting.data(),
                       static_cast<int>(setting.size()))
        == nullptr
      || setting[0] != '$')
    return std::nullopt;
  secret phrase{password};
  return s.crypt(phrase.text, setting.data());
}

bool verify_with(scratch& s, std::string_view password, std::string_view hash) {
  if (has_nul(password) || has_nul(hash) || hash.empty())
    return false;
  secret phrase{password};
  auto computed = s.crypt(phrase.text, std::string{hash});
  // The lengths are public (60 for every bcrypt hash); the bytes are compared in constant
  // time so that the position of the first difference leaks nothing.
  return computed && computed->size() == hash.size()
         && CRYPTO_memcmp(computed->data(), hash.data(), hash.size()) == 0;
}

struct worker_state {
  static inline const char* name = "bcrypt-worker";
  scratch space;
};

/// One bcrypt thread. It is spawned detached, so blocking for the whole work factor stalls
/// only itself; the facade never gives it a second job before it answered the first.
hasher_actor::behavior_type bcrypt_worker(hasher_actor::stateful_pointer<worker_state> self,
                                          bool idle_priority) {
  // A detached actor initializes on its own thread, so this demotes only that thread.
  if (idle_priority) {
    sched_param param{};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0)
      spdlog::warn("hasher cannot move a bcrypt worker to idle priority; it competes with "
                   "the request path");
  }
  return {
    [self](auth::hash_password& req) -> caf::result<std::string> {
      auto hash = hash_with(self->state.space, req.password, req.cost);
      if (!hash)
        return make_error(ec::internal, "password hashing failed");
      return std::move(*hash);
    },
    [self](auth::verify_password& req) -> caf::result<bool> {
      return verify_with(self->state.space, req.password, req.hash);
    },
  };
}

caf::error saturated() {
  return make_error(ec::rate_limited, "password hashing is saturated; retry later");
}

/// Hands a request to worker `index`; when it answers, the worker takes the next queued job
/// or becomes idle.
template <class T, class Request>
void dispatch(hasher_full_actor::stateful_pointer<hasher_state> self, size_t index, Request request,
              caf::typed_response_promise<T> promise);

void next_job(hasher_full_actor::stateful_pointer<hasher_state> self, size_t index) {
  auto& st = self->state;
  if (st.queue.empty()) {
    st.idle.push_back(index);
    return;
  }
  auto job = std::move(st.queue.front());
  st.queue.pop_front();
  std::visit([&](auto& x) { dispatch(self, index, std::move(x.request), x.promise); }, job);
}

template <class T, class Request>
void dispatch(hasher_full_actor::stateful_pointer<hasher_state> self, size_t index, Request request,
              caf::typed_response_promise<T> promise) {
  self->request(self->state.workers[index], caf::infinite, std::move(request))
    .then(
      [self, index, promise](T& result) mutable {
        promise.deliver(std::move(result));
        next_job(self, index);
      },
      [self, index, promise](caf::error& err) mutable {
        promise.deliver(std::move(err));
        next_job(self, index);
      });
}

/// Starts `request` on an idle worker or queues it; returns false if neither is possible.
template <class Job, class Request, class Promise>
bool submit(hasher_full_actor::stateful_pointer<hasher_state> self, Request&& request,
            Promise promise) {
  auto& st = self->state;
  if (!st.idle.empty()) {
    auto index = st.idle.back();
    st.idle.pop_back();
    dispatch(self, index, std::forward<Request>(request), std::move(promise));
    return true;
  }
  if (st.queue.size() >= st.max_queue)
    return false;
  st.queue.emplace_back(Job{std::forward<Request>(request), std::move(promise)});
  return true;
}

bool has_capacity(const hasher_state& st) {
  return !st.idle.empty() || st.queue.size() < st.max_queue;
}

} // namespace

hasher_full_actor::behavior_type hasher(hasher_full_actor::stateful_pointer<hasher_state> self,
                                        hasher_config cfg) {
  auto workers = cfg.workers;
  if (workers == 0)
    workers = std::max(1u, std::thread::hardware_concurrency());
  auto& st = self->state;
  st.max_queue = cfg.queue;
  for (size_t i = 0; i < workers; ++i) {
    // Linked: the workers go when the facade goes, and a facade without workers is useless.
    st.workers.push_back(
      self->spawn<caf::detached + caf::linked>(bcrypt_worker, cfg.idle_priority));
    st.idle.push_back(i);
  }
  spdlog::debug("hasher runs {} bcrypt workers with {} queue slots", workers, cfg.queue);
  return {
    [self](auth::hash_password& req) -> caf::result<std::string> {
      if (req.cost < 4 || req.cost > 31)
        return make_error(ec::invalid_request, "bcrypt cost must be between 4 and 31");
      if (!has_capacity(self->state)) {
        ++self->state.rejected;
        return saturated();
      }
      auto promise = self->make_response_promise<std::string>();
      submit<hash_job>(self, std::move(req), promise);
      return promise;
    },
    [self](auth::verify_password& req) -> caf::result<bool> {
      if (!has_capacity(self->state)) {
        ++self->state.rejected;
        return saturated();
      }
      auto promise = self->make_response_promise<bool>();
      submit<verify_job>(self, std::move(req), promise);
      return promise;
    },
    [self](stats_atom) {
      auto& st = self->state;
      return metrics::hasher_stats{st.workers.size(), st.workers.size() - st.idle.size(),
                                   st.queue.size(), st.max_queue, st.rejected};
    },
  };
}

std::optional<std::string> bcrypt_hash(std::string_view password, int cost) {
  scratch s;
  return hash_with(s, password, cost);
}

bool bcrypt_verify(std::string_view password, std::string_view hash) {
  scratch s;
  return verify_with(s, password, hash);
}

std::string bcrypt_dummy_hash(int cost) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  std::string result;
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting.data(),
                       static_cast<int>(setting.size()))
        != nullptr
      && setting[0] == '$') {
    result = setting.data();
  } else {
    // No entropy right now. The salt of a hash nobody can match need not be secret; only
    // its cost matters, so a fixed one keeps the timing right.
    char fixed[32];
    std::snprintf(fixed, sizeof fixed, "$2b$%02d$abcdefghijklmnopqrstuu", cost);
    result = fixed;
  }
  // 31 characters of checksum in bcrypt's base64 alphabet. crypt_rn reads only the cost and
  // salt, so the work is exactly that of a real hash; the checksum just has to differ from
  // whatever a password yields. The last character carries 2 unused bits, kept zero.
  static constexpr char alphabet[]
    = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::array<unsigned char, 31> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    random.fill(0x2a);
  for (size_t i = 0; i + 1 < random.size(); ++i)
    result += alphabet[random[i] & 0x3f];
  result += alphabet[random.back() & 0x3c];
  return result;
}

} // namespace slicegate
