"""The PostgreSQL schema, as migration sets that mirror SQLite's, name for name.

Every SQLite migration set (``sqlite_utils.Migrations``: ``core`` in
:mod:`hybrid_calendar.store.migrations`, ``crypto`` in
:mod:`hybrid_calendar.crypto.repository`, …) has a twin here with the same migration names
in the same order, so both databases share one schema history and
``hybrid-calendar store migrate`` can copy a database table by table.
``tests/store/postgres/test_migrations.py`` fails when a SQLite migration has no twin.

Time columns hold epoch seconds (``DOUBLE PRECISION``) as in SQLite. Applied migrations
are recorded in ``_pg_migrations``; :func:`apply` holds an advisory lock so processes
starting together apply each migration once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import tuple_row


@dataclass(frozen=True, slots=True)
class PgMigration:
    """One named schema step: statements run in order, in one transaction."""

    name: str
    statements: tuple[str, ...]


@dataclass(slots=True)
class PgMigrationSet:
    """An ordered, named set of migrations (the twin of one ``sqlite_utils.Migrations``)."""

    name: str
    migrations: list[PgMigration] = field(default_factory=list)

    def add(self, name: str, *statements: str) -> None:
        """Append a migration; names are unique within the set."""
        if any(m.name == name for m in self.migrations):
            raise ValueError(f"migration {name!r} is already in set {self.name!r}")
        self.migrations.append(PgMigration(name, statements))


core = PgMigrationSet("core")
core.add(
    "m001_initial",
    "CREATE TABLE organisations (id TEXT PRIMARY KEY, name TEXT, domain TEXT, provider TEXT,"
    " settings TEXT, created_at DOUBLE PRECISION)",
    "CREATE TABLE org_secrets (org_id TEXT REFERENCES organisations(id), name TEXT,"
    " value TEXT, PRIMARY KEY (org_id, name))",
    "CREATE TABLE users (id TEXT PRIMARY KEY, org_id TEXT REFERENCES organisations(id),"
    " email TEXT, email_index TEXT, state TEXT, reason TEXT, provider TEXT, locale TEXT,"
    " created_at DOUBLE PRECISION, updated_at DOUBLE PRECISION)",
    "CREATE UNIQUE INDEX idx_users_org_id_email_index ON users (org_id, email_index)",
    "CREATE INDEX idx_users_state ON users (state)",
    "CREATE TABLE sync_state (user_id TEXT PRIMARY KEY, cursor TEXT,"
    " last_sync_at DOUBLE PRECISION, last_notification_at DOUBLE PRECISION,"
    " last_error TEXT)",
    "CREATE TABLE meetings (user_id TEXT, event_id TEXT, calendar_id TEXT,"
    " status TEXT NOT NULL, start_at DOUBLE PRECISION NOT NULL,"
    " end_at DOUBLE PRECISION NOT NULL, all_day INTEGER, recurring_event_id TEXT, etag TEXT,"
    " marker TEXT, title TEXT NOT NULL, description TEXT, location TEXT, organizer TEXT,"
    " attendees TEXT, join_info TEXT, html_link TEXT, PRIMARY KEY (user_id, event_id))",
    "CREATE INDEX idx_meetings_user_id_start_at ON meetings (user_id, start_at)",
    "CREATE INDEX idx_meetings_end_at ON meetings (end_at)",
    "CREATE TABLE channels (id TEXT PRIMARY KEY, user_id TEXT, resource_id TEXT,"
    " token_hash TEXT, expires_at DOUBLE PRECISION, provider TEXT)",
    "CREATE INDEX idx_channels_user_id ON channels (user_id)",
    "CREATE INDEX idx_channels_expires_at ON channels (expires_at)",
    "CREATE TABLE jobs (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,"
    " lane TEXT, payload TEXT, state TEXT NOT NULL, run_at DOUBLE PRECISION NOT NULL,"
    " attempts INTEGER, lease_until DOUBLE PRECISION, last_error TEXT,"
    " created_at DOUBLE PRECISION)",
    "CREATE UNIQUE INDEX jobs_one_queued_per_key ON jobs (key) WHERE state = 'queued'",
    "CREATE INDEX idx_jobs_state_run_at ON jobs (state, run_at)",
    "CREATE INDEX idx_jobs_lane_state ON jobs (lane, state)",
)
core.add(
    "m002_schedules_presence_timezone",
    "CREATE TABLE scheduled_notifications (key TEXT PRIMARY KEY, user_id TEXT, event_id TEXT,"
    " due_at DOUBLE PRECISION, start_at DOUBLE PRECISION, end_at DOUBLE PRECISION,"
    " payload TEXT, sent_at DOUBLE PRECISION)",
    "CREATE INDEX idx_scheduled_notifications_sent_at_due_at"
    " ON scheduled_notifications (sent_at, due_at)",
    "CREATE INDEX idx_scheduled_notifications_user_id_event_id"
    " ON scheduled_notifications (user_id, event_id)",
    "ALTER TABLE sync_state ADD COLUMN out_of_office INTEGER",
    "ALTER TABLE users ADD COLUMN timezone TEXT",
)
core.add(
    "m003_drop_unused_sync_columns",
    "ALTER TABLE sync_state DROP COLUMN last_notification_at",
    "ALTER TABLE sync_state DROP COLUMN last_error",
)
core.add(
    "m004_notification_outbox",
    "ALTER TABLE scheduled_notifications ADD COLUMN kind TEXT",
    "ALTER TABLE scheduled_notifications ADD COLUMN state TEXT",
    "ALTER TABLE scheduled_notifications ADD COLUMN next_attempt_at DOUBLE PRECISION",
    "UPDATE scheduled_notifications SET kind = 'join_button',"
    " state = CASE WHEN sent_at IS NULL THEN 'pending' ELSE 'delivered' END,"
    " next_attempt_at = due_at",
    "CREATE INDEX idx_scheduled_notifications_state_kind_next_attempt_at"
    " ON scheduled_notifications (state, kind, next_attempt_at)",
    "CREATE INDEX idx_scheduled_notifications_user_id_kind_state"
    " ON scheduled_notifications (user_id, kind, state)",
    "CREATE TABLE notification_deliveries ("
    " key TEXT NOT NULL REFERENCES scheduled_notifications(key) ON DELETE CASCADE,"
    " sink TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT, next_attempt_at DOUBLE PRECISION, updated_at DOUBLE PRECISION,"
    " PRIMARY KEY (key, sink))",
)
core.add(
    "m005_admin",
    "CREATE TABLE admin_verified_addresses (org_id TEXT, email_index TEXT,"
    " verified_at DOUBLE PRECISION, PRIMARY KEY (org_id, email_index))",
    "CREATE TABLE admin_credentials (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " secret_hash TEXT NOT NULL, created_at DOUBLE PRECISION, disabled INTEGER)",
    "CREATE TABLE admin_audit (id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT, details TEXT, source TEXT,"
    " outcome TEXT)",
    "CREATE INDEX idx_admin_audit_at ON admin_audit (at)",
    "CREATE TABLE user_health (user_id TEXT PRIMARY KEY, last_success_at DOUBLE PRECISION,"
    " last_error_at DOUBLE PRECISION, last_error_code TEXT, last_error TEXT,"
    " consecutive_failures INTEGER, backoff_until DOUBLE PRECISION,"
    " sync_token_resets INTEGER, last_sync_seconds DOUBLE PRECISION)",
)
core.add(
    "m006_one_running_job_per_lane",
    "CREATE UNIQUE INDEX jobs_one_running_per_lane ON jobs (lane) WHERE state = 'running'",
)
core.add(
    "m007_shared_budgets",
    # UNLOGGED: no WAL or fsync per take; a crash of the server empties it, which
    # forgets at most one window's usage.
    "CREATE UNLOGGED TABLE budget_usage (name TEXT NOT NULL, slot BIGINT NOT NULL,"
    " used INTEGER NOT NULL, PRIMARY KEY (name, slot))",
)
core.add(
    "m008_people_access_outbox_webhooks",
    "CREATE TABLE people_access (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
    " audience TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL, label TEXT,"
    " parent_id TEXT, created_at DOUBLE PRECISION, expires_at DOUBLE PRECISION NOT NULL,"
    " revoked_at DOUBLE PRECISION, used_at DOUBLE PRECISION)",
    "CREATE UNIQUE INDEX idx_people_access_token_hash ON people_access (token_hash)",
    "CREATE INDEX idx_people_access_user_id ON people_access (user_id)",
    "CREATE TABLE people_outbox (seq BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL,"
    " created_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX idx_people_outbox_user_id_seq ON people_outbox (user_id, seq)",
    "CREATE INDEX idx_people_outbox_created_at ON people_outbox (created_at)",
    "CREATE TABLE people_meta (name TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE people_webhooks (id TEXT PRIMARY KEY, org_id TEXT NOT NULL,"
    " url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL, allow_host TEXT,"
    " created_at DOUBLE PRECISION)",
    "CREATE INDEX idx_people_webhooks_org_id ON people_webhooks (org_id)",
    "CREATE TABLE people_webhook_deliveries (id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL,"
    " org_id TEXT NOT NULL, source_key TEXT NOT NULL, event_type TEXT NOT NULL,"
    " payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER,"
    " next_attempt_at DOUBLE PRECISION, leased_until DOUBLE PRECISION, last_error TEXT,"
    " created_at DOUBLE PRECISION, delivered_at DOUBLE PRECISION)",
    "CREATE UNIQUE INDEX idx_people_webhook_deliveries_endpoint_id_source_key"
    " ON people_webhook_deliveries (endpoint_id, source_key)",
    "CREATE INDEX idx_people_webhook_deliveries_state_next_attempt_at"
    " ON people_webhook_deliveries (state, next_attempt_at)",
)
core.add(
    "m009_job_holder",
    "ALTER TABLE jobs ADD COLUMN claimed_by TEXT",
)
core.add(
    "m010_meetings_sealed_row",
    "ALTER TABLE meetings ADD COLUMN sealed TEXT",
)
core.add(
    "m011_drop_unused_outbox_index",
    "DROP INDEX IF EXISTS idx_scheduled_notifications_sent_at_due_at",
)
core.add(
    "m012_budget_take_function",
    # A budget take in one round trip (store/postgres/budget.py): the lock, then each
    # statement with a snapshot of its own (a VOLATILE function in READ COMMITTED), so the
    # take sees every earlier taker's commit. Nothing to do on SQLite.
    "CREATE OR REPLACE FUNCTION hybrid_calendar_take_budget(p_name TEXT, p_oldest BIGINT,"
    " p_current BIGINT, p_units INTEGER, p_limit INTEGER, OUT first BIGINT, OUT taken BOOLEAN)"
    " LANGUAGE plpgsql VOLATILE AS $$ DECLARE in_use BIGINT; BEGIN"
    " PERFORM pg_advisory_xact_lock(hashtext('budget:' || p_name));"
    " DELETE FROM budget_usage WHERE name = p_name AND slot < p_oldest;"
    " SELECT COALESCE(SUM(used), 0), MIN(slot) INTO in_use, first FROM budget_usage"
    " WHERE name = p_name AND slot >= p_oldest AND used > 0;"
    " taken := in_use + p_units <= p_limit;"
    " IF taken THEN INSERT INTO budget_usage (name, slot, used)"
    " VALUES (p_name, p_current, p_units) ON CONFLICT (name, slot) DO UPDATE"
    " SET used = budget_usage.used + excluded.used; END IF; END $$",
)

core.add(
    "m013_out_of_office_function",
    # Store.set_out_of_office in one round trip (store/postgres/store.py): the locking read
    # of the previous state, then the upsert, in the caller's transaction, each statement
    # with a snapshot of its own (a VOLATILE function in READ COMMITTED), as the former
    # two-statement transaction did. Nothing to do on SQLite.
    "CREATE OR REPLACE FUNCTION hybrid_calendar_set_out_of_office(p_user_id TEXT,"
    " p_enabled INTEGER, OUT previous INTEGER) LANGUAGE plpgsql VOLATILE AS $$ BEGIN"
    " SELECT out_of_office INTO previous FROM sync_state WHERE user_id = p_user_id"
    " FOR UPDATE;"
    " INSERT INTO sync_state (user_id, out_of_office) VALUES (p_user_id, p_enabled)"
    " ON CONFLICT (user_id) DO UPDATE SET out_of_office = excluded.out_of_office;"
    " END $$",
)

core.add(
    "m014_budget_pools",
    # Budget pools (store/budget_pool.py): a member's take holds its pool's lock shared
    # and counts the pool's units; a pool take holds the pool's lock exclusively and
    # counts the busiest member. Nothing to do on SQLite (one write transaction at a time).
    "CREATE OR REPLACE FUNCTION hybrid_calendar_take_pooled_budget(p_name TEXT, p_pool TEXT,"
    " p_oldest BIGINT, p_current BIGINT, p_units INTEGER, p_limit INTEGER, OUT first BIGINT,"
    " OUT taken BOOLEAN) LANGUAGE plpgsql VOLATILE AS $$ DECLARE in_use BIGINT; BEGIN"
    " PERFORM pg_advisory_xact_lock_shared(hashtext('budget:' || p_pool));"
    " PERFORM pg_advisory_xact_lock(hashtext('budget:' || p_name));"
    " DELETE FROM budget_usage WHERE name = p_name AND slot < p_oldest;"
    " SELECT COALESCE(SUM(used), 0), MIN(slot) INTO in_use, first FROM budget_usage"
    " WHERE name IN (p_name, p_pool) AND slot >= p_oldest AND used > 0;"
    " taken := in_use + p_units <= p_limit;"
    " IF taken THEN INSERT INTO budget_usage (name, slot, used)"
    " VALUES (p_name, p_current, p_units) ON CONFLICT (name, slot) DO UPDATE"
    " SET used = budget_usage.used + excluded.used; END IF; END $$",
    "CREATE OR REPLACE FUNCTION hybrid_calendar_take_budget_pool(p_pool TEXT,"
    " p_oldest BIGINT, p_current BIGINT, p_units INTEGER, p_limit INTEGER, OUT first BIGINT,"
    " OUT taken BOOLEAN) LANGUAGE plpgsql VOLATILE AS $$"
    " DECLARE held BIGINT; busiest BIGINT; busiest_first BIGINT; BEGIN"
    " PERFORM pg_advisory_xact_lock(hashtext('budget:' || p_pool));"
    " DELETE FROM budget_usage WHERE slot < p_oldest AND (name = p_pool OR"
    " (left(name, length(p_pool) + 1) = p_pool || ':' AND length(name) > length(p_pool) + 1));"
    " SELECT COALESCE(SUM(used), 0), MIN(slot) INTO held, first FROM budget_usage"
    " WHERE name = p_pool AND used > 0;"
    " SELECT SUM(used), MIN(slot) INTO busiest, busiest_first FROM budget_usage"
    " WHERE left(name, length(p_pool) + 1) = p_pool || ':'"
    " AND length(name) > length(p_pool) + 1 AND used > 0"
    " GROUP BY name ORDER BY SUM(used) DESC LIMIT 1;"
    " taken := held + COALESCE(busiest, 0) + p_units <= p_limit;"
    " first := LEAST(first, busiest_first);"
    " IF taken THEN INSERT INTO budget_usage (name, slot, used)"
    " VALUES (p_pool, p_current, p_units) ON CONFLICT (name, slot) DO UPDATE"
    " SET used = budget_usage.used + excluded.used; END IF; END $$",
)

core.add(
    "m015_drop_unused_meetings_index",
    # No query reads meetings by end_at alone: the retention purge's "end_at < ? OR
    # start_at > ?" has no index for its second half, so it scans the table either way.
    "DROP INDEX IF EXISTS idx_meetings_end_at",
)

core.add(
    "m016_job_claim_order",
    # A claim (store/postgres/queue.py) walks the queued jobs in its own order and stops at
    # the first one it may take, whatever the table's statistics say. Without it, a fresh
    # or busy queue (no statistics yet) was planned as "every queued job x every running
    # job, then sort": 2-3 ms of server CPU per claim at 200 queued jobs instead of 0.2 ms
    # (docs/performance.md, "PostgreSQL: the claim's plan"). Nothing to do on SQLite.
    "CREATE INDEX IF NOT EXISTS jobs_claim_order ON jobs (run_at, id) WHERE state = 'queued'",
)

core.add(
    "m017_meetings_digest",
    # The keyed digest of a meeting's sealed content (codec.DIGEST_COLUMN): the sync's
    # upsert rewrites a row only when its clear columns or this digest differ (or its
    # token is not sealed with the current key), so an unchanged meeting is not written
    # or counted (store/postgres/sync_write.py). Rows stored before hold NULL: each counts
    # as changed once.
    "ALTER TABLE meetings ADD COLUMN digest TEXT",
)

core.add(
    "m018_full_resync_for_private_events",
    # Every user's next sync is a full one: meetings stored before the gateway read an
    # event's privacy (Meeting.private) hold it as not private, and an incremental sync
    # lists only changed events, so an already private event would keep its title on
    # room devices until it changed. Only the rows that differ are written again.
    "UPDATE sync_state SET cursor = NULL WHERE cursor IS NOT NULL",
)

core.add(
    "m019_leases",
    # Named leases (store/postgres/leases.py, Store.hold_lease): of several processes on
    # one database, the lease's holder runs the engine's sweep (channel renewals, presence
    # polls, quiet users' re-syncs, the retention purge), not every process.
    "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " until DOUBLE PRECISION NOT NULL)",
)

crypto = PgMigrationSet("crypto")
crypto.add(
    "m001_crypto_keys",
    "CREATE TABLE crypto_keys (key_id TEXT PRIMARY KEY, org_id TEXT NOT NULL,"
    " user_id TEXT NOT NULL, purpose TEXT NOT NULL, generation INTEGER NOT NULL,"
    " kms TEXT NOT NULL, key_ref TEXT NOT NULL, blob BYTEA NOT NULL,"
    " created_at DOUBLE PRECISION NOT NULL, retired_at DOUBLE PRECISION,"
    " uses BIGINT NOT NULL, uses_reserved BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX idx_crypto_keys_owner_generation"
    " ON crypto_keys (org_id, user_id, purpose, generation)",
    "CREATE INDEX idx_crypto_keys_key_ref ON crypto_keys (key_ref)",
)

SETS: tuple[PgMigrationSet, ...] = (core, crypto)
"""Every migration set, in the order they are applied."""

_LOCK_ID = 0x68636D67  # "hcmg": one advisory lock for schema changes


async def apply(conn: AsyncConnection[Any], sets: tuple[PgMigrationSet, ...] = SETS
                ) -> list[str]:
    """Apply pending migrations of ``sets``; return ``set/name`` of each applied one."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS _pg_migrations (migration_set TEXT NOT NULL,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
            " PRIMARY KEY (migration_set, name))")
        cursor = conn.cursor(row_factory=tuple_row)
        await cursor.execute("SELECT migration_set, name FROM _pg_migrations")
        done = {(str(row[0]), str(row[1])) for row in await cursor.fetchall()}
        for migration_set in sets:
            for migration in migration_set.migrations:
                if (migration_set.name, migration.name) in done:
                    continue
                for statement in migration.statements:
                    await conn.execute(statement)
                await conn.execute("INSERT INTO _pg_migrations (migration_set, name)"
                                   " VALUES (%s, %s)", (migration_set.name, migration.name))
                applied.append(f"{migration_set.name}/{migration.name}")
    return applied
