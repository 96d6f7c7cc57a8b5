"""Webex API emulator: people, meetings, Personal Rooms, spaces, messages, webhooks,
workspaces, devices and cloud xAPI bookings, Calling personal assistant, OAuth and Service
App tokens.

Start one from tests with
:func:`hybrid_calendar_webex_emulator.testing.running_webex_emulator`, in process with
:func:`hybrid_calendar_webex_emulator.app.create_app`, or from the command line with
``hybrid-calendar emulator webex``. See docs/emulator-webex.md.
"""
