"""Built-in ``join_info`` plugin: parse_join_info implementations (work in progress)."""
