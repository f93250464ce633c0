// grove-jobs console: progressive enhancement only. Every page works
// without this file; with it you get confirmations, a live cron preview and
// live execution status over server-sent events.
(function () {
  "use strict";

  // Controls that need this script are shown only with it.
  document.documentElement.classList.add("js");

  // Confirmations on destructive or expensive actions.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      ev.preventDefault();
    }
  });

  // After a refused save, focus goes to the summary of the problems.
  var summary = document.getElementById("errors");
  if (summary && summary.classList.contains("error-summary")) {
    summary.focus();
  }

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

  // Live cron preview: GET /api/v1/schedule/preview?cron=&tz=&count=5,
  // with the form's excluded calendars, jitter and DST policy, so excluded
  // slots show struck through as the scheduler will skip them.
  // If the endpoint is missing or fails, the server-rendered preview stays;
  // without a cron expression (a one-off Run Once At) it stays too.
  var cron = document.getElementById("cron");
  var tz = document.getElementById("timezone");
  var preview = document.getElementById("cron-preview");
  if (cron && preview) {
    var timer = null;
    var seq = 0;
    var original = preview.innerHTML;
    var form = cron.form;
    var planParams = function () {
      if (!form) { return ""; }
      var q = "";
      var cals = [];
      form.querySelectorAll("input[name='/payload/schedule/excludeCalendars']:checked").forEach(function (c) { cals.push(c.value); });
      if (cals.length) { q += "&excludeCalendars=" + encodeURIComponent(cals.join(",")); }
      var jitter = form.querySelector("input[name='/payload/schedule/jitterSeconds']");
      if (jitter && /^\d+$/.test(jitter.value.trim()) && jitter.value.trim() !== "0") {
        q += "&jitterSeconds=" + encodeURIComponent(jitter.value.trim());
      }
      var dst = form.querySelector("input[name='/payload/schedule/dstPolicy']:checked");
      if (dst) { q += "&dstPolicy=" + encodeURIComponent(dst.value); }
      return q;
    };
    var update = function () {
      var mine = ++seq;
      if (!cron.value.trim()) { preview.innerHTML = original; return; }
      var url = "/api/v1/schedule/preview?count=5&cron=" + encodeURIComponent(cron.value) +
        "&tz=" + encodeURIComponent(tz ? tz.value : "UTC") + planParams();
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
      var field = cron.closest(".field");
      if (field) { field.classList.toggle("invalid", !ok); }
      if (ok) { cron.removeAttribute("aria-invalid"); } else { cron.setAttribute("aria-invalid", "true"); }
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
      var runs = (body.runs || []).map(function (run) {
        return { utc: run.utc, text: run.display || run.local || run.utc || "" };
      });
      (body.excluded || []).forEach(function (e) {
        runs.push({ utc: e.utc, text: e.display, calendar: e.calendar });
      });
      runs.sort(function (a, b) { return a.utc < b.utc ? -1 : (a.utc > b.utc ? 1 : 0); });
      if (runs.length) {
        var ol = document.createElement("ol");
        runs.forEach(function (run) {
          var li = document.createElement("li");
          if (run.calendar) {
            li.className = "excluded";
            var s = document.createElement("s");
            s.textContent = run.text;
            li.appendChild(s);
            li.appendChild(document.createTextNode(" excluded by calendar " + run.calendar));
          } else {
            li.textContent = run.text;
          }
          ol.appendChild(li);
        });
        preview.appendChild(ol);
      }
      (body.notes || []).filter(function (n) { return !/: excluded by calendar /.test(n); }).forEach(function (n) {
        var p = document.createElement("div");
        p.className = "hint";
        p.textContent = typeof n === "string" ? n : (n.message || "");
        preview.appendChild(p);
      });
    };
    var schedule = function () { clearTimeout(timer); timer = setTimeout(update, 300); };
    cron.addEventListener("input", schedule);
    if (tz) { tz.addEventListener("change", schedule); }
    if (form) {
      form.querySelectorAll("input[name='/payload/schedule/excludeCalendars'], input[name='/payload/schedule/jitterSeconds'], input[name='/payload/schedule/dstPolicy']")
        .forEach(function (el) { el.addEventListener("change", schedule); });
    }
  }

  // Live execution status: /api/v1/executions/{runId}/events (SSE).
  // The stream sends a `snapshot` first (the run as stored), then `phase`,
  // `progress` and `log` events, then `end`; for a run that has already
  // ended it sends only the snapshot. Whatever happens to the stream, the
  // page reaches the run's final state: a finished snapshot or `end`
  // reloads the page (the server renders the final metrics), a dropped
  // stream reconnects (its snapshot tells the truth), and a slow poll of
  // the execution backs both up.
  var live = document.querySelector("[data-events]");
  if (live) {
    var runUrl = live.getAttribute("data-run");
    var zoneName = live.getAttribute("data-tz") || "UTC";
    // The zone's abbreviation as the server writes it ("CET", not "GMT+1").
    var zoneAbbr = live.getAttribute("data-tz-abbr");
    // The reloaded page shows the newest LOG_TAIL lines; so does this one.
    var tail = parseInt(live.getAttribute("data-log-tail") || "20", 10);
    // One word per state: a finished phase says what the status badge says.
    var labels = { queued: "Queued", running: "Running", retrying: "Retrying", complete: "Complete", failed: "Failed",
      success: "Success", partial: "Partial", skipped: "Skipped", cancelled: "Cancelled" };
    var finals = ["success", "partial", "failed", "cancelled", "skipped"];
    var done = false;
    var src = null;
    var delay = 500;
    var reload = function () {
      if (done) { return; }
      done = true;
      if (src) { src.close(); }
      window.setTimeout(function () { window.location.reload(); }, 150);
    };
    var set = function (sel, text) {
      var el = live.querySelector(sel);
      if (el && el.textContent !== text) { el.textContent = text; }
    };
    var parse = function (ev) { try { return JSON.parse(ev.data); } catch (e) { return {}; } };
    // "29 Nov 22:00 UTC", in the job's zone: the server's format.
    var fmt = null;
    try {
      fmt = new Intl.DateTimeFormat("en-US", { timeZone: zoneName, day: "numeric", month: "short",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });
    } catch (e) { fmt = null; }
    var stamp = function (raw) {
      var d = new Date(raw);
      if (!fmt || isNaN(d.getTime())) { return raw || ""; }
      var p = {};
      fmt.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
      return p.day + " " + p.month + " " + p.hour + ":" + p.minute + " " + (zoneAbbr || p.timeZoneName);
    };
    var showPhase = function (phase) {
      var box = live.querySelector(".phase");
      if (!box || !phase) { return; }
      var cls = phase === "success" ? "complete" : phase;
      if (box.className.indexOf("phase-" + cls) < 0) {
        box.className = "phase phase-" + cls;
        set(".phase .name", labels[phase] || labels[cls] || phase);
      }
    };
    var showCounts = function (processed, total, failed) {
      // As the server renders it: no total known means processed of processed.
      total = total || processed || 0;
      var pct = total ? Math.min(100, Math.round(processed * 1000 / total) / 10) : 0;
      var bar = live.querySelector(".progress > div");
      if (bar) { bar.style.width = pct + "%"; }
      var pb = live.querySelector("[role=progressbar]");
      if (pb) { pb.setAttribute("aria-valuenow", String(Math.round(pct))); }
      set(".progress-text .count", processed + " / " + total + " items");
      set("[data-metric=processed] .value", String(processed));
      set("[data-metric=errors] .value", String(failed || 0));
      set(".progress-text .pct", pct.toFixed(1) + "%");
    };
    var logBox = function () {
      var log = live.querySelector(".log");
      if (!log) {
        log = document.createElement("div");
        log.className = "log";
        log.setAttribute("role", "log");
        log.setAttribute("aria-label", "Log");
        log.tabIndex = 0;
        live.appendChild(log);
      }
      return log;
    };
    // The log as a reload would show it: the lines the store holds, in its
    // order, then the lines heard live that it does not hold yet; the
    // newest `tail` of them. A line heard live and read back is one line:
    // the same message at the same millisecond (the store keeps
    // milliseconds, live events nanoseconds).
    var msKey = function (ts) {
      var m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts || "");
      if (!m) { return ts || ""; }
      return m[1] + "." + ((m[2] || "") + "000").slice(0, 3) + "Z";
    };
    var keyOf = function (d) { return msKey(d.timestamp) + "\u0000" + (d.message || ""); };
    var stored = [];
    var storedKeys = {};
    var pending = [];
    var lastSeq = 0;
    var shown = "";
    var lineOf = function (d) {
      var line = document.createElement("div");
      line.className = "log-line";
      line.setAttribute("data-component", "JobLogEntry");
      line.setAttribute("data-ts", d.timestamp || "");
      var lvl = (d.level || "info").toLowerCase();
      if (lvl === "warning") { lvl = "warn"; }
      if (lvl !== "warn" && lvl !== "error") { lvl = "info"; }
      [[stamp(d.timestamp), "ts"], [lvl.toUpperCase(), "lvl lvl-" + lvl], [d.message || "", "msg"]].forEach(function (p) {
        var s = document.createElement("span");
        s.className = p[1];
        s.textContent = p[0];
        line.appendChild(s);
      });
      return line;
    };
    var showLog = function () {
      pending = pending.filter(function (d) { return !storedKeys[keyOf(d)]; });
      var lines = stored.concat(pending).slice(-tail);
      var now = lines.map(keyOf).join("\u0001");
      if (now === shown) { return; }
      shown = now;
      var log = logBox();
      var stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      log.textContent = "";
      lines.forEach(function (d) { log.appendChild(lineOf(d)); });
      if (stick) { log.scrollTop = log.scrollHeight; }
    };
    var addLine = function (d) {
      var k = keyOf(d);
      if (storedKeys[k] || pending.some(function (p) { return keyOf(p) === k; })) { return; }
      pending.push(d);
      showLog();
    };
    live.querySelectorAll(".log .log-line").forEach(function (line) {
      // Lines rendered by the server: the store's newest, in order.
      var lvl = line.querySelector(".lvl");
      var msg = line.querySelector(".msg");
      var d = { timestamp: line.getAttribute("data-ts"), level: lvl ? lvl.textContent : "info", message: msg ? msg.textContent : "" };
      stored.push(d);
      storedKeys[keyOf(d)] = true;
    });
    shown = stored.map(keyOf).join("\u0001");
    // Lines written before the stream connected, while it was down, or
    // that an overloaded stream skipped: read back from the store after
    // the last one already read (the first read replaces what the server
    // rendered, which is the same lines or fewer).
    var catchUp = function () {
      if (!runUrl) { return; }
      var from = lastSeq;
      fetch(runUrl + "/logs?after=" + from, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || from !== lastSeq) { return; }
          var items = body.items || [];
          if (from === 0) { stored = []; storedKeys = {}; }
          items.forEach(function (d) {
            if (typeof d.seq === "number" && d.seq > lastSeq) { lastSeq = d.seq; }
            var k = keyOf(d);
            if (!storedKeys[k]) { storedKeys[k] = true; stored.push(d); }
          });
          if (stored.length > tail) { stored = stored.slice(-tail); }
          showLog();
          if (items.length >= 5000) { catchUp(); }
        })
        .catch(function () {});
    };
    var onSnapshot = function (d) {
      if (finals.indexOf(d.status) >= 0) { reload(); return; }
      if (d.status !== live.getAttribute("data-live-status")) { reload(); return; }
      showCounts(d.itemsProcessed || 0, d.itemsTotal, d.itemsFailed);
      catchUp();
    };
    var connect = function () {
      if (done || !window.EventSource) { return; }
      src = new EventSource(live.getAttribute("data-events"));
      src.addEventListener("open", function () { delay = 500; });
      src.addEventListener("snapshot", function (ev) { onSnapshot(parse(ev)); });
      src.addEventListener("phase", function (ev) {
        var d = parse(ev);
        // A failed attempt queued for another one: the server renders the
        // Retrying state with the attempt's error and the next time.
        // A new phase (running, or queued again for a retry) is rendered
        // by the server, so a live page and a reloaded one are the same.
        var phase = d.status || d.phase || "";
        if (phase && phase !== live.getAttribute("data-live-status")) { reload(); return; }
        showPhase(phase);
      });
      src.addEventListener("progress", function (ev) {
        var c = parse(ev).counts || {};
        showCounts(c.processed || 0, c.total, c.failed);
      });
      src.addEventListener("log", function (ev) { addLine(parse(ev)); });
      src.addEventListener("end", reload);
      src.onerror = function () {
        // Closed by the server after the snapshot, dropped, or the server
        // restarted: reconnect; the new snapshot says where the run is.
        src.close();
        if (done) { return; }
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5000);
      };
    };
    connect();
    // A backstop that needs no stream at all.
    var poll = function () {
      if (done || !runUrl) { return; }
      fetch(runUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (d && finals.indexOf(d.status) >= 0) { reload(); return; }
          // Lines an overloaded stream skipped come back from the store.
          catchUp();
        })
        .catch(function () {})
        .then(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 2000);
  }

  // Rule conditions: Add condition (up to the most a rule may have) and
  // Remove on each row; ids and labels follow the rows' order.
  document.querySelectorAll(".cond-add").forEach(function (add) {
    var set = add.closest("fieldset");
    var max = parseInt(add.getAttribute("data-max") || "20", 10);
    var rows = function () { return set.querySelectorAll(".cond-row"); };
    var parts = [["cond.signal", "cs", "Signal "], ["cond.operator", "co", "Operator "], ["cond.threshold", "ct", "Threshold "]];
    var renumber = function () {
      rows().forEach(function (row, i) {
        row.setAttribute("data-row", String(i));
        parts.forEach(function (p) {
          var el = row.querySelector("[name='" + p[0] + "']");
          if (!el) { return; }
          var label = row.querySelector("label[for='" + el.id + "']");
          el.id = p[1] + i;
          if (label) { label.setAttribute("for", el.id); label.textContent = p[2] + (i + 1); }
        });
        var rm = row.querySelector(".cond-remove");
        if (rm) { rm.setAttribute("aria-label", "Remove condition " + (i + 1)); }
      });
      add.disabled = rows().length >= max;
    };
    add.addEventListener("click", function () {
      var all = rows();
      if (all.length >= max) { return; }
      var last = all[all.length - 1];
      var copy = last.cloneNode(true);
      copy.querySelector("[name='cond.signal']").selectedIndex = 0;
      copy.querySelector("[name='cond.operator']").value = ">=";
      copy.querySelector("[name='cond.threshold']").value = "";
      last.parentNode.insertBefore(copy, last.nextSibling);
      renumber();
      copy.querySelector("select").focus();
    });
    set.addEventListener("click", function (ev) {
      var rm = ev.target.closest(".cond-remove");
      if (!rm) { return; }
      var row = rm.closest(".cond-row");
      var next = row.nextElementSibling && row.nextElementSibling.classList.contains("cond-row") ? row.nextElementSibling : null;
      if (rows().length > 1) {
        row.parentNode.removeChild(row);
      } else {
        row.querySelector("[name='cond.signal']").selectedIndex = 0;
        row.querySelector("[name='cond.threshold']").value = "";
        next = row;
      }
      renumber();
      (next ? next.querySelector("select") : add).focus();
    });
    renumber();
  });

  // Selects marked data-autosubmit submit their form on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
})();
