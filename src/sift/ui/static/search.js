// Sift search page enhancement: search-as-you-type, keyboard navigation, in-page
// facet/sort/page links. Without this file the page works as a plain GET form.
// Every value from the index goes into the DOM through textContent, never innerHTML.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !window.fetch) return;
  var input = document.getElementById("q");
  var index = form.dataset.index, key = form.dataset.key, title = form.dataset.title;
  var facets = form.dataset.facets ? form.dataset.facets.split(",") : [];
  var S = "\u0002", E = "\u0003", PER = 10, timer = 0, seq = 0;
  var $ = function (id) { return document.getElementById(id); };

  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) if (attrs[k] != null) el.setAttribute(k, attrs[k]);
    (kids || []).forEach(function (c) { el.append(c); });
    return el;
  }
  function human(n) { return n.replace(/([A-Z])/g, " $1").replace(/_/g, " ").trim().toLowerCase().replace(/^./, function (c) { return c.toUpperCase(); }); }
  function fmt(v) {
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number") return v.toLocaleString("en-US");
    if (Array.isArray(v)) return v.slice(0, 5).map(fmt).join(", ");
    if (v && typeof v === "object") return Object.keys(v).slice(0, 3).map(function (k) { return k + " " + fmt(v[k]); }).join(", ");
    return String(v);
  }
  function marked(text) {
    var out = [];
    String(text).split(S).forEach(function (part, i) {
      if (i === 0) { if (part) out.push(part); return; }
      var j = part.indexOf(E);
      out.push(h("mark", {}, [j < 0 ? part : part.slice(0, j)]));
      if (j >= 0 && part.slice(j + 1)) out.push(part.slice(j + 1));
    });
    return out;
  }
  function state(search) {
    var p = new URLSearchParams(search);
    return { q: p.get("q") || "", f: p.getAll("f"), sort: p.get("sort") || "", page: Math.max(1, parseInt(p.get("page"), 10) || 1) };
  }
  function href(st, change) {
    var s = Object.assign({}, st, { page: 1 }, change || {}), p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    s.f.forEach(function (f) { p.append("f", f); });
    if (s.sort) p.set("sort", s.sort);
    if (s.page > 1) p.set("page", s.page);
    var qs = p.toString();
    return location.pathname + (qs ? "?" + qs : "");
  }
  function quote(v) { return '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }
  function filter(f) {
    var by = {};
    f.forEach(function (pair) { var i = pair.indexOf(":"); (by[pair.slice(0, i)] = by[pair.slice(0, i)] || []).push(pair.slice(i + 1)); });
    return Object.keys(by).map(function (k) { return by[k].map(function (v) { return quote(k) + " = " + quote(v); }); });
  }
  function nav(text, url, current) { return h("a", { href: url, "data-nav": "", "aria-current": current ? "true" : null }, [text]); }

  function render(st, r) {
    var total = r.totalHits || 0, hits = $("hits"), pages = $("pages"), empty = $("empty");
    $("error").replaceChildren();
    $("status").textContent = total.toLocaleString("en-US") + " result" + (total === 1 ? "" : "s") + (st.q ? " for \u201c" + st.q + "\u201d" : "");
    hits.replaceChildren.apply(hits, r.hits.map(function (hit) {
      var f = hit._formatted || hit, names = Object.keys(hit).filter(function (k) { return k[0] !== "_" && k !== "id" && k !== title && k !== "countryCode" && hit[k] != null && hit[k] !== "" && !(Array.isArray(hit[k]) && !hit[k].length); });
      var t = title || names[0], link = h("a", { "class": "hit-link", href: href({ q: String(hit[t]), f: [], sort: "" }) }, [h("span", { "class": "hit-title" }, marked(f[t] != null ? f[t] : ""))]);
      return h("li", { "class": "hit" }, [link, h("dl", {}, names.slice(0, 6).map(function (k) { return h("div", {}, [h("dt", {}, [human(k)]), h("dd", {}, [fmt(hit[k])])]); }))]);
    }));
    empty.replaceChildren();
    if (!r.hits.length) {
      var tips = [h("li", {}, ["Check the spelling, or type fewer letters: Sift forgives small typos."]), h("li", {}, ["Use fewer or more general words."])];
      if (st.f.length) tips.push(h("li", {}, [nav("Search again without filters", href(st, { f: [] }))]));
      tips.push(h("li", {}, [nav("Show everything", location.pathname)]));
      empty.append(h("div", { "class": "empty" }, [h("h3", {}, ["No results" + (st.q ? " for \u201c" + st.q + "\u201d" : "")]), h("ul", {}, tips)]));
    }
    var box = $("filters"), kids = [h("h2", { id: "filters-title" }, ["Filters"])];
    if (st.f.length) kids.push(h("ul", { "class": "chips", "aria-label": "Active filters" }, st.f.map(function (pair) {
      var i = pair.indexOf(":"), a = nav(human(pair.slice(0, i)) + ": " + pair.slice(i + 1) + " ", href(st, { f: st.f.filter(function (x) { return x !== pair; }) }));
      a.append(h("span", { "class": "visually-hidden" }, ["(remove filter)"]), h("span", { "aria-hidden": "true" }, ["\u00d7"]));
      return h("li", {}, [a]);
    })));
    facets.forEach(function (name) {
      if ((r.facetStats || {})[name]) return;
      var dist = (r.facetDistribution || {})[name] || {}, values = Object.keys(dist).slice(0, 8);
      kids.push(h("h3", {}, [human(name)]));
      kids.push(h("ul", { "class": "facet" }, values.length ? values.map(function (v) {
        var pair = name + ":" + v, on = st.f.indexOf(pair) >= 0;
        var a = nav("", href(st, { f: on ? st.f.filter(function (x) { return x !== pair; }) : st.f.concat([pair]) }), on);
        a.append(h("span", { "class": "v" }, [v]), " ", h("span", { "class": "n" }, [dist[v].toLocaleString("en-US")]));
        if (on) { a.className = "on"; a.append(h("span", { "class": "visually-hidden" }, [" (selected, remove filter)"])); }
        return h("li", {}, [a]);
      }) : [h("li", { "class": "muted" }, ["No values"])]));
    });
    box.replaceChildren.apply(box, kids);
    document.querySelectorAll(".sort a").forEach(function (a) {
      var s = state(a.search).sort;
      a.href = href(st, { sort: s });
      if (s === st.sort) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    });
    var last = r.totalPages || 0, items = [];
    if (last > 1) {
      if (st.page > 1) items.push(nav("Previous", href(st, { page: st.page - 1 })));
      for (var n = Math.max(1, st.page - 2); n <= Math.min(last, st.page + 2); n++) {
        var a = h("a", { href: href(st, { page: n }), "data-nav": "", "aria-current": n === st.page ? "page" : null }, [h("span", { "class": "visually-hidden" }, ["Page "]), String(n)]);
        items.push(a);
      }
      if (st.page < last) items.push(nav("Next", href(st, { page: st.page + 1 })));
    }
    pages.replaceChildren.apply(pages, items);
    form.querySelectorAll("input[type=hidden]").forEach(function (el) { el.remove(); });
    st.f.forEach(function (f) { form.append(h("input", { type: "hidden", name: "f", value: f })); });
    if (st.sort) form.append(h("input", { type: "hidden", name: "sort", value: st.sort }));
    document.title = (st.q ? st.q + " \u2013 " : "") + "Search " + index + " \u2013 Sift";
  }

  function run(st, push) {
    var mine = ++seq, body = { q: st.q, page: st.page, hitsPerPage: PER, facets: facets, attributesToHighlight: title ? [title] : ["*"], highlightPreTag: S, highlightPostTag: E };
    var fl = filter(st.f);
    if (fl.length) body.filter = fl;
    if (st.sort) body.sort = [st.sort];
    var headers = { "Content-Type": "application/json" };
    if (key) headers.Authorization = "Bearer " + key;
    fetch("/indexes/" + encodeURIComponent(index) + "/search", { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (res) { return res.json().then(function (j) { if (!res.ok) throw new Error(j.message || "HTTP " + res.status); return j; }); })
      .then(function (r) {
        if (mine !== seq) return; // a newer query already answered
        render(st, r);
        history[push ? "pushState" : "replaceState"](null, "", href(st, { page: st.page }));
      })
      .catch(function (err) {
        if (mine !== seq) return;
        $("status").textContent = "";
        $("error").replaceChildren(h("div", { "class": "error" }, [h("h3", {}, ["Search is not available"]), h("p", {}, [err.message])]));
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var st = state(location.search);
    st.q = input.value; st.page = 1;
    timer = setTimeout(function () { run(st, false); }, 120);
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var st = state(location.search); st.q = input.value; st.page = 1;
    run(st, true);
  });
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-nav]");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || a.pathname !== location.pathname) return;
    ev.preventDefault();
    var st = state(a.search);
    input.value = st.q;
    run(st, true);
    input.focus();
  });
  window.addEventListener("popstate", function () { var st = state(location.search); input.value = st.q; run(st, false); });
  function links() { return Array.prototype.slice.call(document.querySelectorAll("#hits .hit-link")); }
  document.addEventListener("keydown", function (ev) {
    var all = links(), at = all.indexOf(document.activeElement);
    if (ev.key === "/" && document.activeElement !== input && !/INPUT|TEXTAREA/.test(document.activeElement.tagName)) { ev.preventDefault(); input.focus(); input.select(); }
    else if (ev.key === "ArrowDown" && (document.activeElement === input || at >= 0) && all.length) { ev.preventDefault(); all[Math.min(at + 1, all.length - 1)].focus(); }
    else if (ev.key === "ArrowUp" && at >= 0) { ev.preventDefault(); (at === 0 ? input : all[at - 1]).focus(); }
    else if (ev.key === "Escape" && at >= 0) { input.focus(); }
  });
})();
