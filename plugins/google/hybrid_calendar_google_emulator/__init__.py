"""Google API emulator: Calendar v3, Gmail vacation settings, OAuth DWD token endpoint, push.

Start one from tests with :func:`hybrid_calendar_google_emulator.testing.running_emulator`,
in process with :func:`hybrid_calendar_google_emulator.app.create_app`, or from the command
line with ``hybrid-calendar emulator google``. See docs/emulator.md.
"""
