"""Google Workspace provider for the Hybrid Calendar gateway.

Calendar API v3 and Gmail settings through a service account with domain-wide delegation,
push channels, and (in :mod:`hybrid_calendar_google_emulator`) a Google API emulator used
by the tests, benchmarks and demo.
"""
