"""Built-in ``google`` plugin: provider hook implementations (work in progress)."""
