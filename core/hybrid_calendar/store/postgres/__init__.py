"""The PostgreSQL backend of the store, for several gateway processes sharing one database.

Chosen by a ``postgresql://`` store URL (``gateway.database``). Modules, one job each:

* :mod:`.migrations` — the schema, as migration sets named and ordered like SQLite's;
* :mod:`.connection` — the connection pool, reads, writes, ``call``;
* :mod:`.group_commit` — writes queued meanwhile share one transaction and commit;
* :mod:`.store` — organisations, users, sync state, meetings, channels;
* :mod:`.sync_write` — a sync's writes as one statement;
* :mod:`.queue` — the job queue (leases, ``FOR UPDATE SKIP LOCKED``, one running job per
  lane across processes, ``LISTEN/NOTIFY`` wake-ups);
* :mod:`.outbox` — the notification outbox (claims with leases);
* :mod:`.keys` — the cipher's wrapped keys;
* :mod:`.budget` — request budgets shared by every process;
* :mod:`.local_server` — a throwaway server for tests and benchmarks.

It needs the ``postgres`` extra (``pip install 'hybrid-calendar[postgres]'``).
"""
