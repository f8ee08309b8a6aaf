// slicegate over NATS, as every other caller reaches it: request-reply on
// <prefix>.auth.*, <prefix>.admin.*, and the published events. nats.ws speaks NATS over
// nats-server's WebSocket listener.

import { connect, Events, JSONCodec } from "nats.ws";

const json = JSONCodec();

/// An error reply of the API ({"error": {code, message}}) or of the transport.
export class ApiError extends Error {
  constructor(code, message, status = 0, body = null) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

export class Gateway {
  /// settings: {nats_ws_url, subject_prefix}
  constructor(settings) {
    this.url = settings.nats_ws_url;
    this.prefix = settings.subject_prefix || "gateway";
    this.nc = null;
    this.onLink = () => {};
  }

  subject(...tokens) {
    return [this.prefix, ...tokens].join(".");
  }

  async connect() {
    this.nc = await connect({
      servers: this.url,
      name: "slicegate-dashboard",
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      pingInterval: 20000,
      // Replies come to inboxes of the dashboard's own: NATS user `dashboard` may read those
      // and no other caller's (deploy/nats.conf).
      inboxPrefix: "_INBOX_dashboard",
    });
    this.onLink("connected");
    (async () => {
      for await (const st of this.nc.status()) {
        if (st.type === Events.Disconnect) this.onLink("disconnected");
        else if (st.type === Events.Reconnect) this.onLink("reconnected");
        else if (st.type === "reconnecting") this.onLink("reconnecting");
      }
    })();
    this.nc.closed().then(() => this.onLink("closed"));
  }

  /// Sends `body` to <prefix>.<tokens…> and returns the decoded reply; an error reply throws
  /// an ApiError with the API's code.
  async request(tokens, body, timeout = 15000) {
    let msg;
    try {
      msg = await this.nc.request(this.subject(...tokens), json.encode(body), { timeout });
    } catch (err) {
      const code = String(err?.code || "");
      if (code === "503") throw new ApiError("unavailable", "slicegate does not answer (no responders)", 503);
      if (code === "TIMEOUT") throw new ApiError("timeout", "slicegate did not answer in time", 504);
      throw new ApiError("transport", err?.message || String(err), 0);
    }
    let reply;
    try {
      reply = json.decode(msg.data);
    } catch {
      throw new ApiError("internal", "the reply is not JSON", 500);
    }
    if (reply && reply.error) {
      const status = Number(msg.headers?.get("Nats-Service-Error-Code")) || 0;
      throw new ApiError(reply.error.code, reply.error.message, status, reply);
    }
    return reply;
  }

  /// Calls every message on `subject` (with the prefix) with (subject tokens after the prefix,
  /// decoded body); bodies that are not JSON are skipped.
  subscribe(tokens, handler) {
    return this.nc.subscribe(this.subject(...tokens), {
      callback: (err, msg) => {
        if (err) return;
        let body;
        try {
          body = json.decode(msg.data);
        } catch {
          return;
        }
        handler(msg.subject.split(".").slice(this.prefix.split(".").length), body);
      },
    });
  }
}
