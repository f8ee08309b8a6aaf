#include "tests/support/stripe_events.hpp"

#include <fstream>
#include <stdexcept>

namespace slicegate::test::stripe {

namespace {

json or_null(const std::optional<std::string>& x) {
  return x ? json(*x) : json(nullptr);
}

} // namespace

json fixture(const std::string& name) {
  auto path = std::string{SLICEGATE_SOURCE_DIR} + "/tests/fixtures/stripe/" + name + ".json";
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  return json::parse(in);
}

json event(const std::string& id, const std::string& type, int64_t created, json object) {
  auto result = fixture("event");
  result["id"] = id;
  result["type"] = type;
  result["created"] = created;
  result["data"]["object"] = std::move(object);
  return result;
}

json subscription(const std::string& customer, const std::string& id, const std::string& status,
                  int64_t period_end, api shape) {
  auto result = fixture("subscription");
  result["customer"] = customer;
  result["id"] = id;
  result["status"] = status;
  result["ended_at"] = nullptr;
  result["cancel_at"] = nullptr;
  result["trial_end"] = nullptr;
  for (auto& item : result["items"]["data"]) {
    item["subscription"] = id;
    if (shape == api::current)
      item["current_period_end"] = period_end;
    else
      item.erase("current_period_end");
  }
  if (shape == api::current)
    result.erase("current_period_end");
  else
    result["current_period_end"] = period_end;
  return result;
}

json invoice(const std::string& customer, const std::optional<std::string>& subscription_id,
             int64_t period_end, api shape) {
  auto result = fixture("invoice");
  result["customer"] = customer;
  if (shape == api::current) {
    result["subscription"] = nullptr;
    result["parent"]["subscription_details"]["subscription"] = or_null(subscription_id);
  } else {
    result.erase("parent");
    result["subscription"] = or_null(subscription_id);
  }
  for (auto& line : result["lines"]["data"])
    line["period"]["end"] = period_end;
  return result;
}

json checkout(const std::optional<std::string>& customer,
              const std::optional<std::string>& client_reference_id,
              const std::optional<std::string>& email,
              const std::optional<std::string>& subscription) {
  auto result = fixture("checkout.session");
  result["customer"] = or_null(customer);
  result["client_reference_id"] = or_null(client_reference_id);
  result["customer_details"]["email"] = or_null(email);
  result["customer_email"] = nullptr;
  result["subscription"] = or_null(subscription);
  result["mode"] = subscription ? "subscription" : "payment";
  result["status"] = "complete";
  result["payment_status"] = "paid";
  return result;
}

} // namespace slicegate::test::stripe
