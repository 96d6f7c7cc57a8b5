"""The gateway's own delivery channels for people and room displays (built-in plugin ``people``).

Modules, one job each:

* :mod:`.access` personal tokens, sign-in links and sessions (hashed, expiring, revocable);
  :mod:`.auth` turns a request into the user it may see; :mod:`.signin` the link flow.
* :mod:`.views` a meeting as a person sees it (their time zone, all-day dates, Join due).
* :mod:`.api` the personal JSON API; :mod:`.feed` the iCalendar feed; :mod:`.page` the web
  page (with ``static/``); :mod:`.stream` server-sent events.
* :mod:`.outbox` the durable stream outbox, :mod:`.writer` its group commit, :mod:`.hub`
  the in-process fan-out to open streams; :mod:`.service` what runs per gateway.
* :mod:`.webhook_sink` the signed-webhook sink, :mod:`.delivery` one attempt per call,
  :mod:`.webhooks` endpoints and messages, :mod:`.signing` Standard Webhooks signatures,
  :mod:`.ssrf` address checks, :mod:`.http1` the POST client, :mod:`.retry_after`.
* :mod:`.admin`, :mod:`.webhook_admin` and :mod:`.commands` the administrator's API and
  CLI; :mod:`.plugin` the hook implementations; :mod:`.settings` the ``[people]`` keys;
  :mod:`.schema` the tables (core migration ``m008``); :mod:`.db` SQL helpers.
"""
