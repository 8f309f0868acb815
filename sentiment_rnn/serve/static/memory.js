// The Memory panel: how far back the model remembers, from GET /api/memory (= `sentiment-rnn
// inspect --memory --json --reviews 200`, measured once by the server). Both curves on a log
// axis against k (words before the end), their half-lives, a table at a few k, the probe.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  if (!$("memory")) return;
  const NS = "http://www.w3.org/2000/svg";
  const TABLE_K = [1, 2, 5, 10, 20, 50, 100, 200];
  const CURVES = [["gradient", "mean_norm", "mem-grad"], ["leave_one_out", "mean_abs_change", "mem-loo"]];
  let tries = 0, shown = null;

  function el(tag, attrs, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  const halfLife = (h) => (h === null ? "not fitted" : `${h.toFixed(1)} words`);
  const norm = (v) => { // as Python's format(v, ".2e"): 2.64e+00
    if (v === null) return "–";
    const [m, e] = v.toExponential(2).split("e");
    return `${m}e${+e < 0 ? "-" : "+"}${String(Math.abs(+e)).padStart(2, "0")}`;
  };
  const change = (v) => (v === null ? "–" : v.toFixed(4));

  function points(curve, key) {
    return curve.k.map((k, i) => [k, curve[key][i]]).filter(([, v]) => v !== null && v > 0);
  }

  function chart(r) {
    const host = $("mem-chart");
    host.textContent = "";
    const width = Math.max(220, host.clientWidth || 280), height = 150, left = 44, pad = 8;
    const all = CURVES.flatMap(([name, key]) => points(r[name], key).map(([, v]) => v));
    if (!all.length) return;
    const lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.ceil(Math.log10(Math.max(...all)));
    const x = (k) => left + (k - 1) / Math.max(1, r.max_len - 1) * (width - left - pad);
    const y = (v) => pad + (hi - Math.log10(v)) / Math.max(1, hi - lo) * (height - 2 * pad - 14);
    const svg = el("svg", { width, height, role: "img", "aria-label":
      "Mean gradient norm and mean leave-one-out change by words before the end, log scale" }, host);
    for (let e = lo; e <= hi; e++) {
      el("line", { x1: left, x2: width - pad, y1: y(10 ** e), y2: y(10 ** e), class: "grid" }, svg);
      el("text", { x: left - 4, y: y(10 ** e) + 4, class: "axis", "text-anchor": "end" }, svg)
        .textContent = `1e${e}`;
    }
    el("text", { x: width - pad, y: height - 2, class: "axis", "text-anchor": "end" }, svg)
      .textContent = `k = 1 … ${r.max_len} words before the end`;
    for (const [name, key, cls] of CURVES) {
      const pts = points(r[name], key);
      el("polyline", { points: pts.map(([k, v]) => `${x(k)},${y(v)}`).join(" "), class: cls,
        "data-points": pts.length }, svg);
    }
  }

  function row(cells, tag) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement(tag || "td");
      td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }

  function show(r) {
    shown = r;
    $("mem-status").textContent = `Over ${r.reviews.toLocaleString("en")} ${r.source}: how ` +
      "strongly the verdict depends on the word k steps before the end (k = 1: the last word).";
    $("mem-grad-hl").textContent = halfLife(r.gradient.half_life);
    $("mem-loo-hl").textContent = halfLife(r.leave_one_out.half_life);
    $("mem-facts").hidden = false;
    chart(r);
    const table = $("mem-table");
    table.textContent = "";
    table.appendChild(row(["k", "|d logit / d x|", "|dP|", "reviews"], "th"));
    const loo = r.leave_one_out;
    loo.k.forEach((k, i) => {
      if (!TABLE_K.includes(k) && k !== r.max_len) return;
      table.appendChild(row([k, norm(r.gradient.mean_norm[k - 1]), change(loo.mean_abs_change[i]),
        loo.reviews[i].toLocaleString("en")]));
    });
    const probe = $("mem-probe");
    probe.textContent = "";
    if (r.probe) {
      const acc = (v) => (v === null ? "–" : v.toFixed(3));
      probe.appendChild(row(["k neutral words", "accuracy", "positive", "negative", "sentences"],
        "th"));
      for (const p of r.probe.rows) {
        probe.appendChild(row([p.k, acc(p.accuracy), acc(p.positive), acc(p.negative),
          p.sentences.toLocaleString("en")]));
      }
    }
  }

  async function poll(start) {
    let state;
    try {
      state = await (await fetch(start ? "/api/memory?start=true" : "/api/memory")).json();
    } catch (e) {
      $("mem-status").textContent = "The memory measurement could not be fetched.";
      return;
    }
    if (state.status === "done") return show(state.report);
    if (state.status === "unavailable") {
      // the reason (in /api/memory's error) names the server's folders: not shown here
      $("mem-status").textContent = "Not measured: the run's validation texts cannot be read " +
        "on this server (its training data is not available here, or has changed).";
      return;
    }
    if (state.status === "idle") {
      $("mem-status").textContent = `Not measured yet: it reads the run's training data again ` +
        `and takes about a minute, once for this server.`;
      $("mem-start").hidden = false;
      return;
    }
    $("mem-start").hidden = true;
    $("mem-status").textContent = `Measuring on ${state.reviews} validation reviews…`;
    if (++tries < 450) setTimeout(() => poll(false), 2000); // the server stops it at 10 minutes
  }

  $("mem-start").addEventListener("click", () => poll(true));
  window.addEventListener("resize", () => { if (shown) chart(shown); });
  poll(false);
})();
