"""The meetings table keeps only the indexes its queries read (migration ``m015`` dropped
``idx_meetings_end_at``): every query the SQLite store runs on ``meetings`` is planned the
same with and without that index, and the retention purge scans the table either way."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid_calendar.store.sqlite import SqliteStore

QUERIES = {
    "list": "SELECT * FROM meetings WHERE user_id = ? AND start_at < ? AND end_at > ? "
            "ORDER BY start_at, event_id",
    "get": "SELECT * FROM meetings WHERE user_id = ? AND event_id = ?",
    "stored rows": "SELECT event_id, status, sealed FROM meetings WHERE user_id = ?",
    "delete one": "DELETE FROM meetings WHERE user_id = ? AND event_id = ?",
    "purge": "DELETE FROM meetings WHERE end_at < ? OR start_at > ?",
    "count": "SELECT count(*) FROM meetings WHERE user_id = ?",
}


def _plans(db: Any) -> dict[str, list[str]]:
    params = {sql: (0,) * sql.count("?") for sql in QUERIES.values()}
    return {name: [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                  params[sql]).fetchall()]
            for name, sql in QUERIES.items()}


@pytest.mark.anyio
async def test_no_meetings_query_reads_the_dropped_end_at_index(store: SqliteStore) -> None:
    names = await store.call(lambda db: [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'meetings'")])
    assert "idx_meetings_end_at" not in names
    assert "idx_meetings_user_id_start_at" in names
    without = await store.call(_plans)

    def with_index(db: Any) -> dict[str, list[str]]:
        db.execute("CREATE INDEX idx_meetings_end_at ON meetings (end_at)")
        try:
            return _plans(db)
        finally:
            db.execute("DROP INDEX idx_meetings_end_at")
    assert await store.call(with_index) == without
    assert without["purge"] == ["SCAN meetings"]
    assert any("idx_meetings_user_id_start_at" in step for step in without["list"])
