"""``hybrid-calendar emulator google`` command (work in progress)."""
