"""The gateway's own delivery channels for people and room displays (built-in plugin ``people``).

Modules, one job each:

* :mod:`.access` personal tokens, sign-in links and sessions (hashed, expiring, revocable);
  :mod:`.auth` turns a request into the user it may see.
* :mod:`.views` a meeting as a person sees it (their time zone, all-day dates, Join due).
* :mod:`.api` the personal JSON API; :mod:`.feed` the iCalendar feed; :mod:`.page` the web
  page; :mod:`.stream` server-sent events from the durable :mod:`.outbox`.
* :mod:`.webhooks` signed webhooks (Standard Webhooks), :mod:`.ssrf` address checks,
  :mod:`.delivery` the retrying webhook worker.
* :mod:`.admin` and :mod:`.commands` the administrator's API and CLI; :mod:`.plugin` the
  hook implementations.
"""
