// The signed-in session lives in sessionStorage: it ends with the tab, and never lands in a
// cookie that other pages of the host would send.

const key = "slicegate.session";

export function load() {
  try {
    const x = JSON.parse(sessionStorage.getItem(key) || "null");
    if (x && typeof x.id === "string" && x.id) return x;
  } catch {}
  return null;
}

/// From the login reply {user, session: {id, expires_at}, slice}.
export function save(reply) {
  const x = {
    id: reply.session.id,
    expires_at: reply.session.expires_at,
    user: { id: reply.user.id, email: reply.user.email, is_admin: reply.user.is_admin },
  };
  sessionStorage.setItem(key, JSON.stringify(x));
  return x;
}

export function clear() {
  sessionStorage.removeItem(key);
}
