// Task list live progress: poll the session-protected JSON list while anything runs.
(function () {
  "use strict";
  var body = document.querySelector("#tasks tbody");
  if (!body || !window.fetch) return;
  function cell(text, cls) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); if (cls) td.className = cls; return td; }
  function details(t) {
    if (t.error) return t.error.message;
    return Object.keys(t.details || {}).map(function (k) { return k + ": " + JSON.stringify(t.details[k]); }).join(", ");
  }
  function tick() {
    fetch("/admin/tasks.json", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (tasks) {
      if (!tasks) return;
      body.replaceChildren.apply(body, tasks.map(function (t) {
        var tr = document.createElement("tr");
        tr.append(cell(t.uid, "num"), cell(t.type), cell(t.indexUid || "\u2013"), cell(t.status), cell(details(t)), cell((t.enqueuedAt || "").slice(0, 19).replace("T", " ")), cell(t.duration));
        return tr;
      }));
      var busy = tasks.some(function (t) { return t.status === "enqueued" || t.status === "processing"; });
      setTimeout(tick, busy ? 2000 : 10000);
    }).catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, 2000);
})();
