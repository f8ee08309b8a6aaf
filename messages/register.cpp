#include "messages/register.hpp"

#include "messages/admin.hpp"
#include "messages/auth.hpp"
#include "messages/billing.hpp"
#include "messages/bus.hpp"
#include "messages/db.hpp"
#include "messages/db_billing.hpp"
#include "messages/db_pool.hpp"
#include "messages/db_telemetry.hpp"
#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/janitor.hpp"
#include "messages/lease.hpp"
#include "messages/metrics.hpp"
#include "messages/pool.hpp"
#include "messages/records.hpp"
#include "messages/runtime.hpp"
#include "messages/telemetry.hpp"

namespace slicegate {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("slicegate"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto result = "slicegate: " + to_string(static_cast<ec>(code));
                           if (ctx.size() == 1 && ctx.match_element<std::string>(0))
                             result += " (" + ctx.get_as<std::string>(0) + ")";
                           return result;
                         });
  cfg.add_message_type<user_record>("slicegate::user_record")
    .add_message_type<credentials>("slicegate::credentials")
    .add_message_type<session_record>("slicegate::session_record")
    .add_message_type<slice_record>("slicegate::slice_record")
    .add_message_type<session_account>("slicegate::session_account")
    .add_message_type<telemetry_sample>("slicegate::telemetry_sample")
    .add_message_type<server_sample>("slicegate::server_sample")
    .add_message_type<db::ping>("slicegate::db::ping")
    .add_message_type<db::migrate>("slicegate::db::migrate")
    .add_message_type<db::create_user>("slicegate::db::create_user")
    .add_message_type<db::create_users>("slicegate::db::create_users")
    .add_message_type<db::user_creation>("slicegate::db::user_creation")
    .add_message_type<db::user_created>("slicegate::db::user_created")
    .add_message_type<db::find_credentials>("slicegate::db::find_credentials")
    .add_message_type<db::find_credentials_by_id>("slicegate::db::find_credentials_by_id")
    .add_message_type<db::get_user>("slicegate::db::get_user")
    .add_message_type<db::record_login>("slicegate::db::record_login")
    .add_message_type<db::set_password>("slicegate::db::set_password")
    .add_message_type<db::find_session>("slicegate::db::find_session")
    .add_message_type<db::extend_session>("slicegate::db::extend_session")
    .add_message_type<db::delete_session>("slicegate::db::delete_session")
    .add_message_type<db::delete_user_sessions>("slicegate::db::delete_user_sessions")
    .add_message_type<db::delete_expired_sessions>("slicegate::db::delete_expired_sessions")
    .add_message_type<db::set_admin>("slicegate::db::set_admin")
    .add_message_type<db::ensure_template>("slicegate::db::ensure_template")
    .add_message_type<db::create_slice_database>("slicegate::db::create_slice_database")
    .add_message_type<db::drop_slice_database>("slicegate::db::drop_slice_database")
    .add_message_type<db::slice_login>("slicegate::db::slice_login")
    .add_message_type<db::slice_credentials>("slicegate::db::slice_credentials")
    .add_message_type<rt::adopt>("slicegate::rt::adopt")
    .add_message_type<auth::signup>("slicegate::auth::signup")
    .add_message_type<auth::login>("slicegate::auth::login")
    .add_message_type<auth::logout>("slicegate::auth::logout")
    .add_message_type<auth::logout_all>("slicegate::auth::logout_all")
    .add_message_type<auth::change_password>("slicegate::auth::change_password")
    .add_message_type<auth::resolve>("slicegate::auth::resolve")
    .add_message_type<auth::authorize_admin>("slicegate::auth::authorize_admin")
    .add_message_type<auth::signup_event>("slicegate::auth::signup_event")
    .add_message_type<auth::signup_events>("slicegate::auth::signup_events")
    .add_message_type<auth::signup_result>("slicegate::auth::signup_result")
    .add_message_type<auth::user_changed>("slicegate::auth::user_changed")
    .add_message_type<auth::forget_cached>("slicegate::auth::forget_cached")
    .add_message_type<lease::state>("slicegate::lease::state")
    .add_message_type<auth::hash_password>("slicegate::auth::hash_password")
    .add_message_type<auth::verify_password>("slicegate::auth::verify_password")
    .add_message_type<auth::signed_in>("slicegate::auth::signed_in")
    .add_message_type<pool::place_user>("slicegate::pool::place_user")
    .add_message_type<pool::place_users>("slicegate::pool::place_users")
    .add_message_type<pool::placement>("slicegate::pool::placement")
    .add_message_type<pool::create_slices>("slicegate::pool::create_slices")
    .add_message_type<pool::list_slices>("slicegate::pool::list_slices")
    .add_message_type<pool::get_slice>("slicegate::pool::get_slice")
    .add_message_type<pool::slice_detail>("slicegate::pool::slice_detail")
    .add_message_type<pool::change_slice>("slicegate::pool::change_slice")
    .add_message_type<pool::assign_slice>("slicegate::pool::assign_slice")
    .add_message_type<pool::billing_changed>("slicegate::pool::billing_changed")
    .add_message_type<events::slice_status_changed>("slicegate::events::slice_status_changed")
    .add_message_type<events::user_slice_changed>("slicegate::events::user_slice_changed")
    .add_message_type<events::slice_health>("slicegate::events::slice_health")
    .add_message_type<events::slice_alert>("slicegate::events::slice_alert")
    .add_message_type<events::event_rejected>("slicegate::events::event_rejected")
    .add_message_type<bus::inbound>("slicegate::bus::inbound")
    .add_message_type<bus::connection_state>("slicegate::bus::connection_state")
    .add_message_type<bus::component_state>("slicegate::bus::component_state")
    .add_message_type<bus::consumer_counters>("slicegate::bus::consumer_counters")
    .add_message_type<slice_spec>("slicegate::slice_spec")
    .add_message_type<slice_usage>("slicegate::slice_usage")
    .add_message_type<rt::start>("slicegate::rt::start")
    .add_message_type<rt::stop>("slicegate::rt::stop")
    .add_message_type<rt::restart>("slicegate::rt::restart")
    .add_message_type<rt::remove>("slicegate::rt::remove")
    .add_message_type<rt::usage>("slicegate::rt::usage")
    .add_message_type<rt::running>("slicegate::rt::running")
    .add_message_type<rt::subscribe>("slicegate::rt::subscribe")
    .add_message_type<rt::exited>("slicegate::rt::exited")
    .add_message_type<db::insert_telemetry>("slicegate::db::insert_telemetry")
    .add_message_type<db::slice_health_row>("slicegate::db::slice_health_row")
    .add_message_type<db::update_slice_health>("slicegate::db::update_slice_health")
    .add_message_type<db::insert_server_samples>("slicegate::db::insert_server_samples")
    .add_message_type<db::slice_counts>("slicegate::db::slice_counts")
    .add_message_type<db::slice_totals>("slicegate::db::slice_totals")
    .add_message_type<db::prune_telemetry>("slicegate::db::prune_telemetry")
    .add_message_type<db::prune_server_telemetry>("slicegate::db::prune_server_telemetry")
    .add_message_type<db::maintain_partitions>("slicegate::db::maintain_partitions")
    .add_message_type<db::partition_report>("slicegate::db::partition_report")
    .add_message_type<events::server_telemetry>("slicegate::events::server_telemetry")
    .add_message_type<telemetry::health_check>("slicegate::telemetry::health_check")
    .add_message_type<telemetry::health_result>("slicegate::telemetry::health_result")
    .add_message_type<telemetry::disk_usage>("slicegate::telemetry::disk_usage")
    .add_message_type<telemetry::slice_status>("slicegate::telemetry::slice_status")
    .add_message_type<telemetry::slice_started>("slicegate::telemetry::slice_started")
    .add_message_type<telemetry::writer_stats>("slicegate::telemetry::writer_stats")
    .add_message_type<telemetry::prune_now>("slicegate::telemetry::prune_now")
    .add_message_type<telemetry::retention_report>("slicegate::telemetry::retention_report");
  cfg.add_message_type<billing::stripe_event>("slicegate::billing::stripe_event")
    .add_message_type<billing::outcome>("slicegate::billing::outcome")
    .add_message_type<db::apply_billing_event>("slicegate::db::apply_billing_event")
    .add_message_type<db::insert_slices>("slicegate::db::insert_slices")
    .add_message_type<db::inserted_slices>("slicegate::db::inserted_slices")
    .add_message_type<db::list_slices>("slicegate::db::list_slices")
    .add_message_type<db::get_slice_detail>("slicegate::db::get_slice_detail")
    .add_message_type<db::transition_slice>("slicegate::db::transition_slice")
    .add_message_type<db::slice_transition>("slicegate::db::slice_transition")
    .add_message_type<db::assignment>("slicegate::db::assignment")
    .add_message_type<db::assign_next>("slicegate::db::assign_next")
    .add_message_type<db::assign_user>("slicegate::db::assign_user")
    .add_message_type<db::get_placement>("slicegate::db::get_placement")
    .add_message_type<db::get_placements>("slicegate::db::get_placements")
    .add_message_type<db::due_actions>("slicegate::db::due_actions")
    .add_message_type<db::due_action>("slicegate::db::due_action")
    .add_message_type<db::count_pool>("slicegate::db::count_pool")
    .add_message_type<db::pool_totals>("slicegate::db::pool_totals")
    .add_message_type<fs::empty_slice_dir>("slicegate::fs::empty_slice_dir");
  cfg.add_message_type<admin::page_key>("slicegate::admin::page_key")
    .add_message_type<admin::list_users>("slicegate::admin::list_users")
    .add_message_type<admin::user_page>("slicegate::admin::user_page")
    .add_message_type<admin::find_user>("slicegate::admin::find_user")
    .add_message_type<admin::get_user>("slicegate::admin::get_user")
    .add_message_type<admin::billing_entry>("slicegate::admin::billing_entry")
    .add_message_type<admin::user_detail>("slicegate::admin::user_detail")
    .add_message_type<admin::update_user>("slicegate::admin::update_user")
    .add_message_type<admin::revoke_sessions>("slicegate::admin::revoke_sessions")
    .add_message_type<admin::series_range>("slicegate::admin::series_range")
    .add_message_type<admin::slice_series>("slicegate::admin::slice_series")
    .add_message_type<admin::slice_point>("slicegate::admin::slice_point")
    .add_message_type<admin::server_series>("slicegate::admin::server_series")
    .add_message_type<admin::server_point>("slicegate::admin::server_point")
    .add_message_type<admin::list_slice_views>("slicegate::admin::list_slice_views")
    .add_message_type<admin::slice_view>("slicegate::admin::slice_view")
    .add_message_type<admin::get_overview>("slicegate::admin::get_overview")
    .add_message_type<admin::overview>("slicegate::admin::overview")
    .add_message_type<admin::insert_alerts>("slicegate::admin::insert_alerts")
    .add_message_type<admin::prune_alerts>("slicegate::admin::prune_alerts")
    .add_message_type<admin::dead_letter>("slicegate::admin::dead_letter")
    .add_message_type<admin::record_dead_letter>("slicegate::admin::record_dead_letter")
    .add_message_type<admin::list_dead_letters>("slicegate::admin::list_dead_letters")
    .add_message_type<admin::get_dead_letter>("slicegate::admin::get_dead_letter")
    .add_message_type<admin::mark_replayed>("slicegate::admin::mark_replayed")
    .add_message_type<admin::prune_dead_letters>("slicegate::admin::prune_dead_letters")
    .add_message_type<metrics::endpoint_metrics>("slicegate::metrics::endpoint_metrics")
    .add_message_type<metrics::consumer_metrics>("slicegate::metrics::consumer_metrics")
    .add_message_type<metrics::bridge_stats>("slicegate::metrics::bridge_stats")
    .add_message_type<metrics::hasher_stats>("slicegate::metrics::hasher_stats")
    .add_message_type<metrics::persistence_stats>("slicegate::metrics::persistence_stats");
}

} // namespace slicegate
