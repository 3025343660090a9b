// mlw ui: a little progressive enhancement; every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Runs: highlight selected rows; compare needs two or more.
  const form = document.getElementById("compare-form");
  if (form) {
    const button = document.getElementById("compare-button");
    const update = () => {
      const boxes = form.querySelectorAll("input[name=runs]");
      let n = 0;
      boxes.forEach((b) => { b.closest("tr").classList.toggle("selected", b.checked); if (b.checked) n++; });
      button.disabled = n < 2;
      button.textContent = n < 2 ? "Compare selected (pick 2 or more)" : "Compare " + n + " runs";
    };
    form.addEventListener("change", update);
    update();
  }

  // Compare: legend colours (set from script: the page allows no inline styles).
  document.querySelectorAll(".swatch[data-color]").forEach((s) => { s.style.background = s.dataset.color; });

  // Model actions: remember the token for this tab only.
  document.querySelectorAll("input.token").forEach((input) => {
    input.value = sessionStorage.getItem("mlw-ui-token") || "";
    input.form.addEventListener("submit", () => sessionStorage.setItem("mlw-ui-token", input.value));
  });

  // Serving: re-read the JSON form every 3 seconds and rewrite the tables (text only).
  const table = document.getElementById("serving-models");
  if (table) {
    const fmt = (v) => (v === null || v === undefined) ? "-" : (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v));
    const fill = (tbody, rows) => {
      tbody.replaceChildren(...rows.map((cells) => {
        const tr = document.createElement("tr");
        cells.forEach((c, i) => { const td = document.createElement("td"); td.textContent = fmt(c); if (i > 0 && typeof c !== "string") td.className = "num"; tr.appendChild(td); });
        return tr;
      }));
    };
    const refresh = async () => {
      try {
        const r = await fetch(table.dataset.refresh, { headers: { Accept: "application/json" } });
        const j = await r.json();
        document.getElementById("serving-error").textContent = j.error || "";
        document.getElementById("serving-time").textContent = "Last read " + j.time + ".";
        fill(table.tBodies[0], j.models.map((m) => [m.model, m.requests, m.errors, m.rate_per_second, m.latency_ms_p50, m.latency_ms_p90,
          m.latency_ms_p99, m.batch_mean, m.batch_p50, m.batch_p90, m.queue_depth]));
        fill(document.getElementById("serving-drift").tBodies[0], j.drift.map((d) => [d.model, d.feature, d.score]));
      } catch (e) {
        document.getElementById("serving-error").textContent = "cannot reach mlw ui: " + e;
      }
    };
    setInterval(refresh, 3000);
  }
});
