// Live updates for the meetings page. The page works without this file; with it, the list
// follows the event stream: every event re-renders the list from /me/fragment, and a new
// Join button is announced to screen readers. Focus stays on the same control if it
// survives the update.
"use strict";
(function () {
  var content = document.getElementById("content");
  var announcer = document.getElementById("announcer");
  if (!content || !window.EventSource) { return; }
  var last = document.body.getAttribute("data-last-event-id") || "";
  var pending = null;

  function focusKey() {
    var el = document.activeElement;
    if (!el || !content.contains(el)) { return null; }
    var item = el.closest("[data-event-id]");
    return item ? [item.getAttribute("data-event-id"), el.className] : null;
  }

  function refresh() {
    if (pending) { return pending; }
    pending = fetch("/me/fragment", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        var key = focusKey();
        content.innerHTML = html;
        if (key) {
          var items = content.querySelectorAll("[data-event-id]");
          for (var i = 0; i < items.length; i++) {
            if (items[i].getAttribute("data-event-id") === key[0]) {
              var target = items[i].querySelector("." + (key[1] || "join").split(" ")[0]);
              if (target) { target.focus(); }
            }
          }
        }
        content.setAttribute("data-updated", String(Date.now()));
      })
      .catch(function () { /* the next event or a reload tries again */ })
      .then(function () { pending = null; });
    return pending;
  }

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  var source = new EventSource("/api/v1/me/stream?last_event_id=" + encodeURIComponent(last));
  source.addEventListener("meetings", refresh);
  source.addEventListener("presence", refresh);
  source.addEventListener("reset", refresh);
  source.addEventListener("join_button_withdrawn", refresh);
  source.addEventListener("join_button", function (event) {
    var data = {};
    try { data = JSON.parse(event.data); } catch (err) { data = {}; }
    refresh().then(function () {
      announce("Join button available: " + (data.title || "meeting"));
    });
  });
  source.addEventListener("open", function () { document.body.setAttribute("data-live", "1"); });
})();
