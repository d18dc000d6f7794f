// Atrium console: live updates and small conveniences. The pages work without this file;
// with it, workspace rows follow the hub as it changes (Server-Sent Events from /events).
//
// Tenant strings arrive as JSON and are only ever set as text (textContent) or, for the
// workspace URL, as an http(s) href: never parsed as HTML. The Content-Security-Policy
// enforces Trusted Types, so an HTML sink would throw.
"use strict";

(function () {
  // ages: "5s", "3m", "2h", "4d", like the server's sinceLabel.
  function since(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return "";
    var s = Math.max(0, Math.floor((Date.now() - t) / 1000));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    if (s < 48 * 3600) return Math.floor(s / 3600) + "h";
    return Math.floor(s / 86400) + "d";
  }
  function tickAges() {
    document.querySelectorAll("time[data-since]").forEach(function (el) {
      var v = el.getAttribute("data-since");
      if (v) el.textContent = since(v);
    });
  }
  setInterval(tickAges, 5000);

  // The template chooser of the new-workspace form reloads the form for the chosen template.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  if (document.body.getAttribute("data-live") !== "1" || !window.EventSource) return;

  var statusEl = document.getElementById("live-status");
  function status(state, text) {
    if (!statusEl) return;
    statusEl.setAttribute("data-state", state);
    statusEl.textContent = text;
  }

  function safeURL(u) { return /^https?:\/\//i.test(u || "") ? u : ""; }

  // fill sets every [data-field] of el from row: text, the URL's href, the phase's tone, and
  // shows or hides [data-show] parts.
  function fill(el, row) {
    el.querySelectorAll("[data-field]").forEach(function (f) {
      var name = f.getAttribute("data-field");
      if (!(name in row)) return;
      if (name === "url") {
        var u = safeURL(row.url);
        f.setAttribute("href", u || "#");
        if (f.textContent !== "Open") f.textContent = u;
        return;
      }
      if (name === "age") {
        f.setAttribute("data-since", row.created);
        f.setAttribute("datetime", row.created);
        f.textContent = since(row.created);
        return;
      }
      f.textContent = row[name] == null ? "" : String(row[name]);
      if (name === "phase") f.setAttribute("data-tone", row.tone || "busy");
    });
    el.querySelectorAll("[data-href]").forEach(function (a) {
      var v = row[a.getAttribute("data-href")];
      if (typeof v === "string" && v.charAt(0) === "/") a.setAttribute("href", v);
    });
    el.querySelectorAll("form[data-action]").forEach(function (form) {
      if (row.path && row.path.charAt(0) === "/") form.setAttribute("action", row.path + "/" + form.getAttribute("data-action"));
    });
    el.querySelectorAll("[data-show]").forEach(function (part) {
      var key = part.getAttribute("data-show");
      part.hidden = key === "url" ? !safeURL(row.url) : !row[key];
    });
  }

  function findByKey(selector, key) {
    var all = document.querySelectorAll(selector);
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-key") === key) return all[i];
    }
    return null;
  }

  function refreshEmpty(org) {
    document.querySelectorAll("[data-empty]").forEach(function (p) {
      if (p.getAttribute("data-empty") !== org) return;
      var body = null;
      document.querySelectorAll("tbody[data-org]").forEach(function (b) { if (b.getAttribute("data-org") === org) body = b; });
      p.hidden = !!(body && body.querySelector("tr"));
    });
  }

  function upsert(row) {
    // The page of one workspace.
    var article = findByKey("article[data-key]", row.key);
    if (article) fill(article, row);
    // The list.
    var tr = findByKey("tr[data-key]", row.key);
    if (tr) { fill(tr, row); return; }
    var body = null;
    document.querySelectorAll("tbody[data-org]").forEach(function (b) { if (b.getAttribute("data-org") === row.org) body = b; });
    var tmpl = document.getElementById("row-template");
    if (!body || !tmpl) return;
    var table = body.closest("table");
    if (table && table.getAttribute("data-mine-only") === "1" && !row.mine) return;
    var fresh = tmpl.content.querySelector("tr").cloneNode(true);
    fresh.setAttribute("data-key", row.key);
    fresh.setAttribute("data-org", row.org);
    fill(fresh, row);
    // Keep rows sorted by key, as the server renders them.
    var rows = body.querySelectorAll("tr[data-key]"), before = null;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-key") > row.key) { before = rows[i]; break; }
    }
    body.insertBefore(fresh, before);
    refreshEmpty(row.org);
  }

  function remove(row) {
    var tr = findByKey("tr[data-key]", row.key);
    if (tr) { tr.parentNode.removeChild(tr); refreshEmpty(row.org); }
    var article = findByKey("article[data-key]", row.key);
    if (article) {
      var msg = article.querySelector("[data-field=message]");
      if (msg) msg.textContent = "This workspace is gone.";
      var phase = article.querySelector("[data-field=phase]");
      if (phase) { phase.textContent = "Deleted"; phase.setAttribute("data-tone", "off"); }
      article.querySelectorAll("[data-show]").forEach(function (p) { p.hidden = true; });
    }
  }

  var source = new EventSource("/events");
  source.addEventListener("workspace", function (e) {
    var ev;
    try { ev = JSON.parse(e.data); } catch (err) { return; }
    if (!ev || !ev.row || typeof ev.row.key !== "string") return;
    if (ev.type === "delete") remove(ev.row); else upsert(ev.row);
  });
  source.addEventListener("ready", function () { status("live", "Live"); document.body.setAttribute("data-live-ready", "1"); });
  source.addEventListener("signedout", function () { source.close(); window.location.assign("/signin"); });
  source.onerror = function () { status("down", "Reconnecting live updates…"); };
})();
