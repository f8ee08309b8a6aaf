#include "persistence/migrator.hpp"

#include "persistence/detail/link.hpp"
#include "persistence/detail/migrations.hpp"
#include "persistence/persistence.hpp"

namespace slicegate {

std::vector<int32_t> run_migrations(const std::string& url) {
  detail::link gateway{"gateway", url, persistence_config{}.connect_timeout_seconds};
  return detail::apply_migrations(gateway);
}

} // namespace slicegate
