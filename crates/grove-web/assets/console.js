// grove-jobs console: progressive enhancement only. Every page works
// without this file; with it you get confirmations, a live cron preview and
// live execution status over server-sent events.
(function () {
  "use strict";

  // Confirmations on destructive or expensive actions.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      ev.preventDefault();
    }
  });

  // Tabs: open the panel a tab points at (panels are accordions on phones).
  document.querySelectorAll(".tabs a[href^='#']").forEach(function (tab) {
    tab.addEventListener("click", function () {
      var panel = document.querySelector(tab.getAttribute("href"));
      if (panel && panel.tagName === "DETAILS") { panel.open = true; }
      document.querySelectorAll(".tabs a").forEach(function (t) {
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
      });
    });
  });

  // A link straight to #status selects that tab.
  if (location.hash) {
    document.querySelectorAll(".tabs a[href^='#']").forEach(function (t) {
      t.setAttribute("aria-selected", t.getAttribute("href") === location.hash ? "true" : "false");
    });
  }

  // Live cron preview: GET /api/v1/schedule/preview?cron=&tz=&count=5.
  // If the endpoint is missing or fails, the server-rendered preview stays.
  var cron = document.getElementById("cron");
  var tz = document.getElementById("timezone");
  var preview = document.getElementById("cron-preview");
  if (cron && preview) {
    var timer = null;
    var seq = 0;
    var original = preview.innerHTML;
    var update = function () {
      var mine = ++seq;
      var url = "/api/v1/schedule/preview?count=5&cron=" + encodeURIComponent(cron.value) +
        "&tz=" + encodeURIComponent(tz ? tz.value : "UTC");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 404 || r.status === 405) { return null; }
          return r.json().then(function (body) { return { ok: r.ok, body: body }; });
        })
        .then(function (res) {
          if (mine !== seq) { return; }
          if (!res) {
            preview.innerHTML = original;
            var note = document.createElement("div");
            note.className = "hint";
            note.textContent = "Live preview is not available on this server; the preview updates after saving.";
            preview.appendChild(note);
            return;
          }
          render(res.ok, res.body);
        })
        .catch(function () { if (mine === seq) { preview.innerHTML = original; } });
    };
    var render = function (ok, body) {
      preview.textContent = "";
      var human = document.createElement("div");
      human.className = "human";
      if (!ok) {
        human.className = "field-error";
        var errs = (body && body.errors) || [];
        human.textContent = errs.length ? errs.map(function (e) { return e.message; }).join("; ") :
          ((body && body.detail) || "This expression does not parse.");
        preview.appendChild(human);
        return;
      }
      human.textContent = body.humanText || body.text || body.description || body.scheduleText || "";
      preview.appendChild(human);
      var runs = body.runs || body.next || body.items || [];
      if (runs.length) {
        var ol = document.createElement("ol");
        runs.forEach(function (run) {
          var li = document.createElement("li");
          li.textContent = typeof run === "string" ? run : (run.display || run.local || run.utc || run.at || "");
          ol.appendChild(li);
        });
        preview.appendChild(ol);
      }
      (body.notes || body.dstNotes || []).forEach(function (n) {
        var p = document.createElement("div");
        p.className = "hint";
        p.textContent = typeof n === "string" ? n : (n.message || "");
        preview.appendChild(p);
      });
    };
    var schedule = function () { clearTimeout(timer); timer = setTimeout(update, 300); };
    cron.addEventListener("input", schedule);
    if (tz) { tz.addEventListener("change", schedule); }
  }

  // Live execution status: /api/v1/executions/{runId}/events (SSE).
  var live = document.querySelector("[data-events]");
  if (live && window.EventSource) {
    var src = new EventSource(live.getAttribute("data-events"));
    var set = function (sel, text) {
      var el = live.querySelector(sel);
      if (el) { el.textContent = text; }
    };
    var parse = function (ev) { try { return JSON.parse(ev.data); } catch (e) { return {}; } };
    src.addEventListener("phase", function (ev) {
      var d = parse(ev);
      var phase = d.phase || d.status || "";
      set(".phase .name", phase);
      var box = live.querySelector(".phase");
      if (box) { box.className = "phase phase-" + (phase === "success" ? "complete" : phase); }
    });
    src.addEventListener("progress", function (ev) {
      var d = parse(ev);
      var c = d.counts || {};
      var done = c.processed || 0;
      var total = c.total || 0;
      var pct = total ? Math.min(100, Math.round(done * 1000 / total) / 10) : 0;
      var bar = live.querySelector(".progress > div");
      if (bar) { bar.style.width = pct + "%"; }
      set(".progress-text .count", done + " / " + total);
      set("[data-metric=processed] .value", String(done));
      set("[data-metric=errors] .value", String(c.failed || 0));
      set(".progress-text .pct", pct.toFixed(1) + "%");
    });
    src.addEventListener("log", function (ev) {
      var d = parse(ev);
      var log = live.querySelector(".log");
      if (!log) { return; }
      var line = document.createElement("div");
      line.className = "log-line";
      var lvl = (d.level || "info").toLowerCase();
      [[d.timestamp || "", "ts"], [lvl.toUpperCase(), "lvl lvl-" + lvl], [d.message || "", "msg"]].forEach(function (p) {
        var s = document.createElement("span");
        s.className = p[1];
        s.textContent = p[0];
        line.appendChild(s);
      });
      log.appendChild(line);
      log.scrollTop = log.scrollHeight;
    });
    var finish = function () { src.close(); window.setTimeout(function () { window.location.reload(); }, 400); };
    src.addEventListener("end", finish);
    src.addEventListener("done", finish);
    src.onerror = function () { src.close(); };
  }

  // Selects marked data-autosubmit submit their form on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
})();
