// Task list live progress: while anything runs, fetch the task page again and swap its
// table body in (DOMParser: nothing fetched runs), so the rows are rendered once, on the
// server, with the same durations and details as on the first load.
(function () {
  "use strict";
  var body = document.querySelector("#tasks tbody");
  if (!body || !window.fetch || !window.DOMParser) return;
  function busy(root) { return !!root.querySelector(".task-status.enqueued, .task-status.processing"); }
  function tick() {
    fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#tasks tbody");
        if (!fresh) return;
        body.replaceWith(document.adoptNode(fresh));
        body = fresh;
        setTimeout(tick, busy(body) ? 2000 : 10000);
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, busy(body) ? 2000 : 10000);
})();
