-- Per-slice CRM schema: the data of one WhatsApp account (contacts, chats, messages, media
-- metadata). Applied once to the slice template database as role wa_slice; every wa_slice_N is
-- created from that template. Plain `public` schema. Idempotent: safe to apply again.

-- Keeps updated_at current on every UPDATE.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- People and businesses this account has seen.
CREATE TABLE IF NOT EXISTS contacts (
    id            BIGSERIAL   PRIMARY KEY,
    wa_id         TEXT        NOT NULL UNIQUE,     -- WhatsApp JID, e.g. 15551234567@s.whatsapp.net
    phone         TEXT,                            -- E.164, e.g. +15551234567
    name          TEXT,                            -- name in the account's address book
    push_name     TEXT,                            -- name the contact set for itself
    business_name TEXT,
    is_business   BOOLEAN     NOT NULL DEFAULT false,
    labels        TEXT[]      NOT NULL DEFAULT '{}',   -- WhatsApp Business labels
    notes         TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_contacts_phone ON contacts (phone);
CREATE INDEX IF NOT EXISTS idx_contacts_labels ON contacts USING gin (labels);

CREATE OR REPLACE TRIGGER contacts_set_updated_at
    BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One-to-one chats and groups.
CREATE TABLE IF NOT EXISTS chats (
    id              BIGSERIAL   PRIMARY KEY,
    wa_chat_id      TEXT        NOT NULL UNIQUE,   -- chat JID (user or ...@g.us for groups)
    contact_id      BIGINT      REFERENCES contacts (id) ON DELETE SET NULL, -- NULL for groups
    is_group        BOOLEAN     NOT NULL DEFAULT false,
    subject         TEXT,                          -- group subject
    unread_count    INTEGER     NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    archived        BOOLEAN     NOT NULL DEFAULT false,
    pinned          BOOLEAN     NOT NULL DEFAULT false,
    muted_until     TIMESTAMPTZ,
    last_message_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_chats_last_message_at ON chats (last_message_at DESC NULLS LAST);
CREATE INDEX IF NOT EXISTS idx_chats_contact_id ON chats (contact_id);

-- Labels on chats (WhatsApp Business labels or the CRM's own).
CREATE TABLE IF NOT EXISTS chat_labels (
    chat_id    BIGINT      NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    label      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, label)
);

CREATE INDEX IF NOT EXISTS idx_chat_labels_label ON chat_labels (label);

CREATE TABLE IF NOT EXISTS messages (
    id                BIGSERIAL   PRIMARY KEY,
    wa_message_id     TEXT        NOT NULL,        -- WhatsApp message key id, unique per chat
    chat_id           BIGINT      NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_contact_id BIGINT      REFERENCES contacts (id) ON DELETE SET NULL, -- NULL when from_me
    from_me           BOOLEAN     NOT NULL DEFAULT false,
    type              TEXT        NOT NULL DEFAULT 'text'
        CHECK (type IN ('text', 'image', 'video', 'audio', 'document', 'sticker',
                        'location', 'contact', 'reaction', 'system')),
    body              TEXT,                        -- text, caption, or reaction emoji
    quoted_message_id BIGINT      REFERENCES messages (id) ON DELETE SET NULL,
    status            TEXT        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    sent_at           TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT messages_chat_wa_message_key UNIQUE (chat_id, wa_message_id)
);

CREATE INDEX IF NOT EXISTS idx_messages_chat_sent_at ON messages (chat_id, sent_at DESC);
CREATE INDEX IF NOT EXISTS idx_messages_sender_contact_id ON messages (sender_contact_id);
CREATE INDEX IF NOT EXISTS idx_messages_quoted_message_id ON messages (quoted_message_id)
    WHERE quoted_message_id IS NOT NULL;

-- Metadata of media attached to messages; the bytes live under the slice's data directory.
CREATE TABLE IF NOT EXISTS media (
    id               BIGSERIAL   PRIMARY KEY,
    message_id       BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    mime_type        TEXT,
    file_name        TEXT,
    size_bytes       BIGINT      CHECK (size_bytes >= 0),
    sha256           TEXT,                         -- hex digest of the file
    storage_path     TEXT,                         -- relative to the slice's data directory
    width            INTEGER,
    height           INTEGER,
    duration_seconds INTEGER,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_media_message_id ON media (message_id);
CREATE INDEX IF NOT EXISTS idx_media_sha256 ON media (sha256);

-- The CRM's own tags on contacts, with when each was set (contacts.labels mirrors WhatsApp's labels).
CREATE TABLE IF NOT EXISTS contact_tags (
    contact_id BIGINT      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag        TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, tag)
);

CREATE INDEX IF NOT EXISTS idx_contact_tags_tag ON contact_tags (tag);
