// OpenIOP front-end glue: charts from JSON specs, small progressive enhancements.
// Loaded with `defer`; no inline scripts anywhere (Content-Security-Policy: script-src 'self').
(function () {
  "use strict";

  function loadChartJs(callback) {
    if (window.Chart) { callback(); return; }
    var s = document.createElement("script");
    s.src = "/static/vendor/chart-4.6.1.umd.min.js";
    s.onload = callback;
    document.head.appendChild(s);
  }

  // Shaded horizontal bands (severity ranges) and a threshold line.
  var bandsPlugin = {
    id: "openiopBands",
    beforeDatasetsDraw: function (chart, args, opts) {
      var spec = chart.canvas._openiopSpec || {};
      var y = chart.scales.y, area = chart.chartArea, ctx = chart.ctx;
      if (!y || !area) { return; }
      ctx.save();
      (spec.bands || []).forEach(function (band) {
        var top = y.getPixelForValue(band.to), bottom = y.getPixelForValue(band.from);
        ctx.fillStyle = band.color || "rgba(0,0,0,0.04)";
        ctx.fillRect(area.left, Math.max(top, area.top), area.right - area.left,
                     Math.min(bottom, area.bottom) - Math.max(top, area.top));
        if (band.label) {
          ctx.fillStyle = "#4a5a63"; ctx.font = "11px system-ui, sans-serif";
          ctx.textAlign = "right";
          ctx.fillText(band.label, area.right - 4, Math.max(top, area.top) + 12);
        }
      });
      if (spec.threshold) {
        var ty = y.getPixelForValue(spec.threshold.value);
        ctx.strokeStyle = "#b3261e"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(area.left, ty); ctx.lineTo(area.right, ty); ctx.stroke();
        ctx.setLineDash([]);
        if (spec.threshold.label) {
          ctx.fillStyle = "#b3261e"; ctx.font = "bold 11px system-ui, sans-serif";
          ctx.textAlign = "left"; ctx.fillText(spec.threshold.label, area.left + 4, ty - 4);
        }
      }
      ctx.restore();
    },
    afterDatasetsDraw: function (chart) {
      var spec = chart.canvas._openiopSpec || {};
      var ctx = chart.ctx, meta = chart.getDatasetMeta(0);
      if (!meta || !meta.data) { return; }
      ctx.save();
      (spec.markers || []).forEach(function (m) {
        var point = meta.data[m.index];
        if (!point) { return; }
        ctx.fillStyle = m.color || "#0f5e73";
        ctx.font = "bold 11px system-ui, sans-serif"; ctx.textAlign = "center";
        ctx.fillText(m.label, point.x, point.y - 10);
      });
      ctx.restore();
    }
  };

  function drawCharts(root) {
    var canvases = (root || document).querySelectorAll("canvas[data-chart-spec]");
    if (!canvases.length) { return; }
    loadChartJs(function () {
      canvases.forEach(function (canvas) {
        if (canvas._chart) { return; }
        var node = document.getElementById(canvas.dataset.chartSpec);
        if (!node) { return; }
        var spec = JSON.parse(node.textContent);
        var palette = ["#0f5e73", "#c2571a", "#5b4b9a", "#2e7d32", "#ad1457", "#00838f"];
        var datasets = (spec.datasets || []).map(function (d, i) {
          var color = d.color || palette[i % palette.length];
          return {
            label: d.label, data: d.data, borderColor: color,
            backgroundColor: spec.type === "bar" ? (d.colors || color) : color,
            tension: 0.2, spanGaps: true, pointRadius: 4, borderWidth: 2,
            stepped: d.stepped || false
          };
        });
        // Counts and whole-number scores get whole-number ticks (no "2.5 participants").
        var whole = datasets.every(function (d) {
          return (d.data || []).every(function (v) { return v === null || Number.isInteger(v); });
        });
        var config = {
          type: spec.type || "line",
          data: { labels: spec.labels || [], datasets: datasets },
          options: {
            responsive: true, maintainAspectRatio: false, animation: false,
            plugins: { legend: { display: datasets.length > 1 } },
            scales: {
              y: {
                min: spec.y && spec.y.min, max: spec.y && spec.y.max, beginAtZero: true,
                ticks: whole ? { precision: 0 } : {},
                title: { display: !!(spec.y && spec.y.title), text: spec.y && spec.y.title }
              },
              x: { title: { display: !!(spec.x && spec.x.title), text: spec.x && spec.x.title } }
            }
          },
          plugins: [bandsPlugin]
        };
        // Chart.js wraps `config`, so custom keys on it are not visible to plugins later:
        // the plugins read the spec from the canvas instead.
        canvas._openiopSpec = spec;
        canvas._chart = new window.Chart(canvas, config);
      });
    });
  }

  // Idle logoff (HIPAA 164.312(a)(2)(iii)): when nobody has used OpenIOP in any tab for the
  // session's idle limit, sign out so health information does not stay on an unattended
  // screen. Activity in any tab counts (shared through localStorage).
  function watchIdle() {
    var limit = parseInt(document.body.dataset.idleSeconds || "0", 10);
    var form = document.getElementById("signout-form");
    if (!limit || !form) { return; }
    var key = "openiop:last-activity", local = Date.now();
    function mark() {
      local = Date.now();
      try { window.localStorage.setItem(key, String(local)); } catch (err) { /* private mode */ }
    }
    function last() {
      var shared = 0;
      try { shared = parseInt(window.localStorage.getItem(key) || "0", 10); } catch (err) { shared = 0; }
      return Math.max(shared, local);
    }
    ["keydown", "pointerdown", "scroll"].forEach(function (name) {
      document.addEventListener(name, mark, { passive: true });
    });
    // A request the person made counts; a background poll (the My work count) does not,
    // or an unattended screen would never sign out.
    document.addEventListener("htmx:afterRequest", function (evt) {
      var elt = evt.detail && evt.detail.elt;
      if (elt && elt.hasAttribute && elt.hasAttribute("data-background-poll")) { return; }
      mark();
    }, { passive: true });
    mark();
    var timer = window.setInterval(function () {
      if (Date.now() - last() < limit * 1000) { return; }
      window.clearInterval(timer);
      var reason = document.createElement("input");
      reason.type = "hidden"; reason.name = "reason"; reason.value = "idle";
      form.appendChild(reason);
      form.submit();
    }, Math.min(15000, Math.max(500, limit * 250)));
  }

  // A table wider than its box scrolls sideways (phones): a keyboard user must be able to
  // reach and scroll it too (WCAG 2.1.1), so a box that overflows becomes a focusable,
  // named region; one that fits stays out of the tab order.
  function scrollableTables(root) {
    var boxes = (root.querySelectorAll ? root : document).querySelectorAll(".table-wrap, .table");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.classList.contains("table") && box.parentElement &&
          box.parentElement.classList.contains("table-wrap")) { return; }
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-scroll-focus", "");
          if (!box.hasAttribute("role")) { box.setAttribute("role", "region"); }
          if (!box.hasAttribute("aria-label")) {
            var caption = box.querySelector("caption");
            var heading = caption ? caption.textContent : "";
            box.setAttribute("aria-label", (heading || "Table").trim() + " (scrolls sideways)");
          }
        }
      } else if (box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
        if (box.getAttribute("role") === "region") { box.removeAttribute("role"); }
        box.removeAttribute("aria-label");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document); watchIdle(); scrollableTables(document);
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    drawCharts(e.target); scrollableTables(document);
  });
  window.addEventListener("resize", function () { scrollableTables(document); });

  // Buttons that print the page (no inline onclick under CSP).
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-print]");
    if (t) { e.preventDefault(); window.print(); }
    var c = e.target.closest("[data-confirm]");
    if (c && !window.confirm(c.dataset.confirm)) { e.preventDefault(); }
  });
})();
