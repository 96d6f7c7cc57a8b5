"""Tables of the people channels, created by the core migration ``m004`` (never edited).

* ``people_access``: personal tokens, sign-in links and browser sessions, stored as
  SHA-256 digests only.
* ``people_outbox``: every stream event, in order (``seq`` is the SSE event id; AUTOINCREMENT
  so ids are never reused, even after the whole outbox was purged). Payloads are sealed.
* ``people_meta``: small facts, e.g. the highest outbox ``seq`` ever purged.
* ``people_webhooks`` / ``people_webhook_deliveries``: registered endpoints (URL and signing
  secret sealed under the organisation's key) and their durable delivery queue.
"""

from __future__ import annotations

from sqlite_utils import Database


def create_people_tables(db: Database) -> None:
    """Create the tables and their indexes."""
    db.table("people_access").create({
        "id": str, "user_id": str, "audience": str, "kind": str, "token_hash": str,
        "label": str, "parent_id": str, "created_at": float, "expires_at": float,
        "revoked_at": float, "used_at": float}, pk="id",
        not_null={"user_id", "audience", "kind", "token_hash", "expires_at"})
    db.table("people_access").create_index(["token_hash"], unique=True)
    db.table("people_access").create_index(["user_id"])
    db.execute("CREATE TABLE people_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
               "user_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, "
               "payload TEXT NOT NULL, created_at REAL NOT NULL)")
    db.table("people_outbox").create_index(["user_id", "seq"])
    db.table("people_outbox").create_index(["created_at"])
    db.table("people_meta").create({"name": str, "value": str}, pk="name")
    db.table("people_webhooks").create({
        "id": str, "org_id": str, "url": str, "secret": str, "events": str,
        "allow_host": str, "created_at": float}, pk="id",
        not_null={"org_id", "url", "secret", "events"})
    db.table("people_webhooks").create_index(["org_id"])
    db.table("people_webhook_deliveries").create({
        "id": str, "endpoint_id": str, "org_id": str, "source_key": str, "event_type": str,
        "payload": str, "state": str, "attempts": int, "next_attempt_at": float,
        "leased_until": float, "last_error": str, "created_at": float, "delivered_at": float},
        pk="id",
        not_null={"endpoint_id", "org_id", "source_key", "event_type", "payload", "state"})
    db.table("people_webhook_deliveries").create_index(["endpoint_id", "source_key"],
                                                       unique=True)
    db.table("people_webhook_deliveries").create_index(["state", "next_attempt_at"])
