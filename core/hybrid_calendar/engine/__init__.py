"""The background engine: durable job queue, per-user sync, periodic sweeps."""
