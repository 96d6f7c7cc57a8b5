"""Google API emulator: Calendar v3, Gmail settings, OAuth token endpoint, push (work in progress)."""
