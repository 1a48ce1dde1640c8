// Sift search page enhancement: search-as-you-type, facet-value search, in-page facet,
// sort and page links, keyboard navigation. Each change fetches the server-rendered page
// for the new URL and swaps its results in (DOMParser: nothing the page receives runs),
// so results, facets and every state are rendered once, on the server; without this file
// the page works as plain GET forms and links.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !window.fetch || !window.DOMParser) return;
  var input = document.getElementById("q");
  var timer = 0, seq = 0, retry = 0;
  var $ = function (id) { return document.getElementById(id); };

  function pageUrl(change) {
    var p = new URLSearchParams(location.search);
    p.delete("page");
    Object.keys(change).forEach(function (k) { if (change[k]) p.set(k, change[k]); else p.delete(k); });
    var qs = p.toString();
    return location.pathname + (qs ? "?" + qs : "");
  }

  // Fetch `url`, swap the status, results and kept filters in; `how` is "push", "replace"
  // or "none" (popstate: the address is already right).
  function load(url, how, focusId) {
    var mine = ++seq;
    clearTimeout(retry);
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (res) { return res.text(); })
      .then(function (html) {
        if (mine !== seq) return; // a newer request already answered
        var doc = new DOMParser().parseFromString(html, "text/html");
        var body = doc.getElementById("page-body");
        if (!body) throw new Error("unexpected page");
        $("status").textContent = doc.getElementById("status").textContent;
        $("kept").replaceChildren.apply($("kept"), Array.prototype.slice.call(doc.getElementById("kept").childNodes));
        $("page-body").replaceWith(document.adoptNode(body));
        document.title = doc.title;
        if (how !== "none") history[how === "push" ? "pushState" : "replaceState"](null, "", url);
        if (focusId && $(focusId)) {
          var el = $(focusId), end = el.value.length;
          el.focus();
          el.setSelectionRange(end, end);
        }
        // While the index is being built, look again every few seconds.
        if (body.hasAttribute("data-building")) retry = setTimeout(function () { load(location.href, "none"); }, 3000);
      })
      .catch(function () { if (mine === seq) location.assign(url); }); // let the browser show it
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { load(pageUrl({ q: input.value, facet: "", fq: "" }), "replace"); }, 120);
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    load(pageUrl({ q: input.value, facet: "", fq: "" }), "push");
  });
  document.addEventListener("input", function (ev) {
    var box = ev.target;
    if (!box.matches || !box.matches("[data-facet-search]")) return;
    clearTimeout(timer);
    var facet = box.form.elements.facet.value;
    timer = setTimeout(function () { load(pageUrl({ facet: box.value ? facet : "", fq: box.value }), "replace", box.id); }, 150);
  });
  document.addEventListener("submit", function (ev) {
    if (!ev.target.classList || !ev.target.classList.contains("facet-search")) return;
    ev.preventDefault();
    var box = ev.target.querySelector("[data-facet-search]");
    load(pageUrl({ facet: box.value ? ev.target.elements.facet.value : "", fq: box.value }), "push", box.id);
  });
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-nav]");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || a.pathname !== location.pathname) return;
    ev.preventDefault();
    input.value = new URLSearchParams(a.search).get("q") || "";
    load(a.pathname + a.search, "push");
    input.focus();
  });
  window.addEventListener("popstate", function () {
    input.value = new URLSearchParams(location.search).get("q") || "";
    load(location.href, "none");
  });
  if ($("page-body") && $("page-body").hasAttribute("data-building")) retry = setTimeout(function () { load(location.href, "none"); }, 3000);

  // Click events: activating a result (mouse, or Enter on a focused result) tells the
  // server which hit of which search was chosen, unless the visitor sends Do-Not-Track or
  // Global Privacy Control (the server checks the headers too). The visitor is a random id
  // kept for this tab only (sessionStorage): no cookie, nothing that outlives the session.
  var tracked = navigator.doNotTrack !== "1" && !navigator.globalPrivacyControl && !!navigator.sendBeacon;
  function session() {
    try {
      var id = sessionStorage.getItem("sift-session");
      if (!id) { id = crypto.randomUUID(); sessionStorage.setItem("sift-session", id); }
      return id;
    } catch (e) { return "anonymous"; }
  }
  function clicked(hit) {
    var list = hit && hit.closest("#hits");
    if (!tracked || !list || !list.dataset.queryUid || hit.dataset.id === undefined) return;
    var event = { queryUid: list.dataset.queryUid, objectId: hit.dataset.id, position: Number(hit.dataset.position), session: session() };
    navigator.sendBeacon("/search/" + encodeURIComponent(list.dataset.index) + "/click", new Blob([JSON.stringify(event)], { type: "application/json" }));
  }
  document.addEventListener("click", function (ev) { clicked(ev.target.closest && ev.target.closest("#hits .hit")); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && document.activeElement.matches && document.activeElement.matches("#hits .hit[tabindex]")) clicked(document.activeElement);
  });

  // Keyboard: "/" to the search box, arrows through the results, Esc back to the box.
  function results() { return Array.prototype.slice.call(document.querySelectorAll("#hits .hit-link, #hits .hit[tabindex]")); }
  document.addEventListener("keydown", function (ev) {
    var all = results(), active = document.activeElement, at = all.indexOf(active);
    if (ev.key === "/" && active !== input && !/INPUT|TEXTAREA|SELECT/.test(active.tagName)) { ev.preventDefault(); input.focus(); input.select(); }
    else if (ev.key === "ArrowDown" && (active === input || at >= 0) && all.length) { ev.preventDefault(); all[Math.min(at + 1, all.length - 1)].focus(); }
    else if (ev.key === "ArrowUp" && at >= 0) { ev.preventDefault(); (at === 0 ? input : all[at - 1]).focus(); }
    else if (ev.key === "Escape" && at >= 0) { input.focus(); }
  });
})();
