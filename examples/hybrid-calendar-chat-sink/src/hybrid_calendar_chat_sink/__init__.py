"""Join buttons in Google Chat: an example third-party plugin of the hybrid calendar gateway.

At a meeting's start the gateway's outbox hands each invitee's Join button to every sink;
this one posts it as a card with a **Join** button to the Google Chat space that person
chose, through the space's incoming webhook. Modules:

* :mod:`~hybrid_calendar_chat_sink.plugin` — the hook implementations (the entry point);
* :mod:`~hybrid_calendar_chat_sink.webhooks` — the ``chat_sink.webhooks`` map, validated;
* :mod:`~hybrid_calendar_chat_sink.card` — the Chat message built from a Join button.
"""

__version__ = "0.1.0"
