"""Schema of the core tables, as ordered migrations (``sqlite_utils.Migrations("core")``).

Every schema change is a new function at the end; applied migrations are never edited.
Components with tables of their own (e.g. ``hybrid_calendar.crypto``) keep their own
named migration set in the same database.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("core")


@migrations()
def m001_initial(db: Database) -> None:
    """Organisations, users, sync state, meetings, channels and the job queue."""
    db.table("organisations").create({"id": str, "name": str, "domain": str, "provider": str,
                                "settings": str, "created_at": float}, pk="id")
    db.table("org_secrets").create({"org_id": str, "name": str, "value": str},
                             pk=("org_id", "name"), foreign_keys=[("org_id", "organisations")])
    db.table("users").create({"id": str, "org_id": str, "email": str, "email_index": str,
                        "state": str, "reason": str, "provider": str, "locale": str,
                        "created_at": float, "updated_at": float}, pk="id",
                       foreign_keys=[("org_id", "organisations")])
    db.table("users").create_index(["org_id", "email_index"], unique=True)
    db.table("users").create_index(["state"])
    db.table("sync_state").create({"user_id": str, "cursor": str, "last_sync_at": float,
                             "last_notification_at": float, "last_error": str}, pk="user_id")
    db.table("meetings").create({
        "user_id": str, "event_id": str, "calendar_id": str, "status": str,
        "start_at": float, "end_at": float, "all_day": int, "recurring_event_id": str,
        "etag": str, "marker": str, "title": str, "description": str, "location": str,
        "organizer": str, "attendees": str, "join_info": str, "html_link": str,
    }, pk=("user_id", "event_id"), not_null={"status", "start_at", "end_at", "title"})
    db.table("meetings").create_index(["user_id", "start_at"])
    db.table("meetings").create_index(["end_at"])
    db.table("channels").create({"id": str, "user_id": str, "resource_id": str, "token_hash": str,
                           "expires_at": float, "provider": str}, pk="id")
    db.table("channels").create_index(["user_id"])
    db.table("channels").create_index(["expires_at"])
    db.table("jobs").create({"id": int, "kind": str, "key": str, "lane": str, "payload": str,
                       "state": str,
                       "run_at": float, "attempts": int, "lease_until": float,
                       "last_error": str, "created_at": float}, pk="id",
                      not_null={"kind", "key", "state", "run_at"})
    db.execute("CREATE UNIQUE INDEX jobs_one_queued_per_key ON jobs(key) "
               "WHERE state = 'queued'")
    db.table("jobs").create_index(["state", "run_at"])
    db.table("jobs").create_index(["lane", "state"])


@migrations()
def m002_schedules_presence_timezone(db: Database) -> None:
    """Join-button schedule, out-of-office state, user time zone."""
    db.table("scheduled_notifications").create({
        "key": str, "user_id": str, "event_id": str, "due_at": float, "start_at": float,
        "end_at": float, "payload": str, "sent_at": float,
    }, pk="key")
    db.table("scheduled_notifications").create_index(["sent_at", "due_at"])
    db.table("scheduled_notifications").create_index(["user_id", "event_id"])
    db.table("sync_state").add_column("out_of_office", int)
    db.table("users").add_column("timezone", str)


@migrations()
def m003_drop_unused_sync_columns(db: Database) -> None:
    """Sync state keeps what the engine reads: cursor, last sync, out-of-office."""
    db.table("sync_state").transform(drop={"last_notification_at", "last_error"})


@migrations()
def m004_notification_outbox(db: Database) -> None:
    """Every notification kind in one outbox; delivery state per notification and sink.

    A notification is ``pending`` until a sink returns a delivered receipt (then
    ``delivered``), every sink failed (``dead``: a dead letter) or none served it
    (``skipped``). ``notification_deliveries`` keeps each sink's attempts, reason (sealed)
    and next attempt, so a restart keeps the attempt count.
    """
    table = db.table("scheduled_notifications")
    table.add_column("kind", str)
    table.add_column("state", str)
    table.add_column("next_attempt_at", float)
    db.execute("UPDATE scheduled_notifications SET kind = 'join_button', "
               "state = CASE WHEN sent_at IS NULL THEN 'pending' ELSE 'delivered' END, "
               "next_attempt_at = due_at")
    table.create_index(["state", "kind", "next_attempt_at"])
    table.create_index(["user_id", "kind", "state"])
    db.execute(
        "CREATE TABLE notification_deliveries ("
        " key TEXT NOT NULL REFERENCES scheduled_notifications(key) ON DELETE CASCADE,"
        " sink TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
        " reason TEXT, next_attempt_at FLOAT, updated_at FLOAT, PRIMARY KEY (key, sink))")


@migrations()
def m005_admin(db: Database) -> None:
    """Administration: addresses an admin verified (blind index only), admin credentials
    (hashed), the audit log, and per-user health counters."""
    db.table("admin_verified_addresses").create(
        {"org_id": str, "email_index": str, "verified_at": float},
        pk=("org_id", "email_index"))
    db.table("admin_credentials").create(
        {"name": str, "role": str, "secret_hash": str, "created_at": float,
         "disabled": int}, pk="name", not_null={"role", "secret_hash"})
    db.table("admin_audit").create(
        {"id": int, "at": float, "actor": str, "action": str, "target": str,
         "details": str, "source": str, "outcome": str}, pk="id",
        not_null={"at", "actor", "action"})
    db.table("admin_audit").create_index(["at"])
    db.table("user_health").create(
        {"user_id": str, "last_success_at": float, "last_error_at": float,
         "last_error_code": str, "last_error": str, "consecutive_failures": int,
         "backoff_until": float, "sync_token_resets": int, "last_sync_seconds": float},
        pk="user_id")


@migrations()
def m006_one_running_job_per_lane(db: Database) -> None:
    """A lane never has two running jobs, even when several processes claim at once."""
    db.execute("CREATE UNIQUE INDEX jobs_one_running_per_lane ON jobs(lane) "
               "WHERE state = 'running'")


@migrations()
def m007_shared_budgets(db: Database) -> None:
    """Units taken from each request budget per sub-window (``store.budget``)."""
    db.execute("CREATE TABLE budget_usage (name TEXT NOT NULL, slot INTEGER NOT NULL, "
               "used INTEGER NOT NULL, PRIMARY KEY (name, slot))")


@migrations()
def m008_people_access_outbox_webhooks(db: Database) -> None:
    """Personal access, the stream outbox and signed webhooks (``hybrid_calendar.people``)."""
    from hybrid_calendar.people.schema import create_people_tables

    create_people_tables(db)


@migrations()
def m009_job_holder(db: Database) -> None:
    """Which process holds a running job (``host:pid``), for operators and fail-over."""
    db.table("jobs").add_column("claimed_by", str)


@migrations()
def m010_meetings_sealed_row(db: Database) -> None:
    """A meeting's sensitive fields sealed together in one token (``meetings.sealed``):
    one AES-GCM seal per row instead of one per field. Rows written before keep their
    per-column tokens and stay readable (``store.codec``)."""
    db.table("meetings").add_column("sealed", str)


@migrations()
def m011_drop_unused_outbox_index(db: Database) -> None:
    """No query reads ``scheduled_notifications`` by ``(sent_at, due_at)`` (every query's
    plan is in docs/performance.md): the index only cost each Join-button write."""
    db.execute("DROP INDEX IF EXISTS idx_scheduled_notifications_sent_at_due_at")


@migrations()
def m012_budget_take_function(db: Database) -> None:
    """Nothing on SQLite: its PostgreSQL twin creates the function that takes a shared
    budget in one round trip (one process serializes SQLite's takers in its store thread).
    The twin keeps both stores' schema histories the same, name for name."""


@migrations()
def m013_out_of_office_function(db: Database) -> None:
    """Nothing on SQLite: its PostgreSQL twin creates the function that stores a user's
    out-of-office state and returns the previous one in one round trip (one process
    serializes SQLite's writers in its store thread). The twin keeps both stores' schema
    histories the same, name for name."""


@migrations()
def m014_budget_pools(db: Database) -> None:
    """Nothing on SQLite: its PostgreSQL twin creates the functions that take a pool of
    budgets and a member of one (``store.budget_pool``); SQLite's takes are plain
    statements in one write transaction."""


@migrations()
def m015_drop_unused_meetings_index(db: Database) -> None:
    """No query reads ``meetings`` by ``end_at`` alone: the retention purge's
    ``end_at < ? OR start_at > ?`` scans the table with or without it (plans in
    docs/performance.md), so the index only cost every meeting's write (its entries are
    spread over the whole index, one leaf page per row written)."""
    db.execute("DROP INDEX IF EXISTS idx_meetings_end_at")


@migrations()
def m016_job_claim_order(db: Database) -> None:
    """Nothing on SQLite: its PostgreSQL twin adds the partial index that a claim walks in
    its order (``jobs (run_at, id) WHERE state = 'queued'``), so a claim reads the first
    claimable jobs instead of sorting every queued one (docs/performance.md, "PostgreSQL:
    the claim's plan"). SQLite's claims are left as they are."""


@migrations()
def m017_meetings_digest(db: Database) -> None:
    """A keyed digest of each meeting's sealed content (``meetings.digest``,
    :data:`~hybrid_calendar.store.codec.DIGEST_COLUMN`): a sync tells an unchanged meeting
    from a changed one without opening its token (PostgreSQL compares it inside the upsert).
    Rows stored before hold ``NULL``: SQLite opens and compares those as before and writes
    their digest; PostgreSQL counts each as changed once."""
    db.table("meetings").add_column("digest", str)


@migrations()
def m018_full_resync_for_private_events(db: Database) -> None:
    """Every user's next sync is a full one (their stored cursor is cleared): meetings
    stored before the gateway read an event's privacy (``Meeting.private``) hold it as
    not private, and an incremental sync lists only events that changed, so an event
    already private would keep its title on room devices until it changed. A full sync
    lists every event of the window; only those whose stored form differs (the private
    ones) are written again, and their room bookings are rewritten. Costs one full
    listing per user, once."""
    db.execute("UPDATE sync_state SET cursor = NULL WHERE cursor IS NOT NULL")


@migrations()
def m019_leases(db: Database) -> None:
    """Nothing on SQLite: its PostgreSQL twin creates the table of named leases with which
    several processes on one database agree which of them runs the engine's sweep
    (``Store.hold_lease``). One process uses a SQLite database, and needs no lease. The
    twin keeps both stores' schema histories the same, name for name."""
