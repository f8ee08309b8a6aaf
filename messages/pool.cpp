#include "messages/pool.hpp"

namespace slicegate::pool {

std::string to_string(verb x) {
  switch (x) {
    case verb::suspend: return "suspend";
    case verb::resume: return "resume";
    case verb::destroy: return "destroy";
  }
  return "suspend";
}

} // namespace slicegate::pool
