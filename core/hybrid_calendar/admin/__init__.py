"""Administration and operations: start-up checks, the data-directory lock, organisation
set-up, activation policy, admin credentials and roles, the audit log, health, metrics,
the OpenAPI document and the admin page.

Each module has one job; :mod:`hybrid_calendar.admin.errors` draws the exception tree.
"""
