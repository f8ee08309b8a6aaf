#include "messages/register.hpp"

#include "messages/auth.hpp"
#include "messages/bus.hpp"
#include "messages/db.hpp"
#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/pool.hpp"
#include "messages/records.hpp"

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
    .add_message_type<auth::signup>("slicegate::auth::signup")
    .add_message_type<auth::login>("slicegate::auth::login")
    .add_message_type<auth::logout>("slicegate::auth::logout")
    .add_message_type<auth::logout_all>("slicegate::auth::logout_all")
    .add_message_type<auth::change_password>("slicegate::auth::change_password")
    .add_message_type<auth::resolve>("slicegate::auth::resolve")
    .add_message_type<auth::authorize_admin>("slicegate::auth::authorize_admin")
    .add_message_type<auth::signup_event>("slicegate::auth::signup_event")
    .add_message_type<auth::revoke_user>("slicegate::auth::revoke_user")
    .add_message_type<auth::user_changed>("slicegate::auth::user_changed")
    .add_message_type<auth::hash_password>("slicegate::auth::hash_password")
    .add_message_type<auth::verify_password>("slicegate::auth::verify_password")
    .add_message_type<auth::signed_in>("slicegate::auth::signed_in")
    .add_message_type<pool::place_user>("slicegate::pool::place_user")
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
    .add_message_type<bus::connection_state>("slicegate::bus::connection_state");
}

} // namespace slicegate
