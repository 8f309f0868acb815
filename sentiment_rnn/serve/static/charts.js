// SVG pictures of a trace: the colour scales, the running P(positive) as a line over the words
// read, and h_t as a heatmap (units x words) with the same columns. Plain JS, no library.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const LEFT = 56; // room for the axis labels
  const MAX_UNITS = 128; // rows drawn at most; a wider h_t says so under the heatmap

  function el(tag, attrs, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, s, attrs) {
    const node = el("text", Object.assign({ x, y }, attrs || {}), parent);
    node.textContent = s;
    return node;
  }

  function mix(from, to, t) {
    return "rgb(" + from.map((c, i) => Math.round(c + (to[i] - c) * t)).join(",") + ")";
  }

  const WHITE = [255, 255, 255];
  const GREEN = [26, 140, 72];
  const RED = [205, 45, 40];
  const PURPLE = [94, 60, 153];
  const ORANGE = [200, 95, 10];

  // A change in P(positive) -> background colour; every read word gets some colour.
  function moveColour(change) {
    const t = Math.min(1, Math.abs(change) / 0.25);
    return mix(WHITE, change >= 0 ? GREEN : RED, 0.12 + 0.88 * Math.sqrt(t));
  }

  function strongMove(change) {
    return 0.12 + 0.88 * Math.sqrt(Math.min(1, Math.abs(change) / 0.25)) > 0.62;
  }

  // h in [-1, 1] -> purple (negative), white (0), orange (positive).
  function stateColour(h) {
    return mix(WHITE, h < 0 ? PURPLE : ORANGE, Math.min(1, Math.abs(h)));
  }

  function columnWidth(host, n) {
    const room = Math.max(240, host.clientWidth - LEFT - 8);
    return Math.max(12, Math.min(64, room / Math.max(1, n)));
  }

  function short(word) {
    return word.length > 12 ? word.slice(0, 11) + "…" : word;
  }

  // The running P(positive): one point per word read, starting at sigmoid(b_y) before any.
  function line(host, read, start) {
    host.textContent = "";
    const cw = columnWidth(host, read.length);
    const h = 150, top = 10, bottom = 24;
    const width = LEFT + cw * read.length + 8;
    const svg = el("svg", { width, height: h + top + bottom, role: "img",
      "aria-label": "P(positive) after each word read", "data-cw": cw, "data-plot": h + top }, host);
    const y = (p) => top + (1 - p) * h;
    el("rect", { x: LEFT, y: y(1), width: cw * read.length, height: h / 2, class: "pos-zone" }, svg);
    el("rect", { x: LEFT, y: y(0.5), width: cw * read.length, height: h / 2, class: "neg-zone" }, svg);
    for (const p of [0, 0.5, 1]) {
      el("line", { x1: LEFT - 4, x2: LEFT + cw * read.length, y1: y(p), y2: y(p),
        class: p === 0.5 ? "mid" : "grid" }, svg);
      text(svg, LEFT - 8, y(p) + 4, p.toFixed(1), { class: "axis", "text-anchor": "end" });
    }
    const xs = read.map((_, t) => LEFT + (t + 0.5) * cw);
    const pts = [[LEFT, y(start)]].concat(read.map((r, t) => [xs[t], y(r.probability)]));
    el("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "pline" }, svg);
    let prev = start;
    read.forEach((r, t) => {
      const dot = el("circle", { cx: xs[t], cy: y(r.probability), r: cw < 16 ? 2.5 : 3.5,
        class: r.probability >= 0.5 ? "dot pos" : "dot neg", "data-step": t }, svg);
      const change = r.probability - prev;
      el("title", {}, dot).textContent = `${r.word} (t=${r.step}): P(positive) ` +
        `${r.probability.toFixed(4)} (${change >= 0 ? "+" : "−"}${Math.abs(change).toFixed(4)})`;
      prev = r.probability;
    });
    text(svg, LEFT, h + top + 18, `start ${start.toFixed(3)} (h₀ = 0)`, { class: "axis" });
    return svg;
  }

  // h_t as a heatmap: a row per unit, a column per word read; the value shows on hover or tap.
  function heatmap(host, read, units, readout) {
    host.textContent = "";
    const rows = Math.min(units, MAX_UNITS);
    const cw = columnWidth(host, read.length);
    const ch = rows <= 16 ? 14 : rows <= 48 ? 9 : 5;
    const longest = Math.max(...read.map((r) => short(r.word).length));
    const labels = Math.round(22 + longest * 6.4 * 0.82); // rotated word labels
    const width = LEFT + cw * read.length + 8;
    const svg = el("svg", { width, height: rows * ch + labels, role: "img",
      "aria-label": `hidden state h_t: ${units} units by ${read.length} words`,
      "data-cw": cw, "data-plot": rows * ch }, host);
    const every = Math.max(1, Math.ceil(rows / 8));
    for (let u = 0; u < rows; u += every) {
      text(svg, LEFT - 6, u * ch + ch / 2 + 4, `unit ${u + 1}`, { class: "axis", "text-anchor": "end" });
    }
    const cells = el("g", {}, svg);
    read.forEach((r, t) => {
      for (let u = 0; u < rows; u++) {
        const v = r.h[u];
        const cell = el("rect", { x: LEFT + t * cw, y: u * ch, width: cw, height: ch,
          fill: stateColour(v), "data-t": t, "data-u": u }, cells);
        el("title", {}, cell).textContent = `unit ${u + 1}, “${r.word}” (t=${r.step}): h = ${v.toFixed(4)}`;
      }
      const lx = LEFT + (t + 0.5) * cw + 4, ly = rows * ch + 8;
      text(svg, lx, ly, short(r.word), { class: "wlabel", "text-anchor": "end",
        transform: `rotate(-55 ${lx} ${ly})` });
    });
    const show = (event) => {
      const c = event.target.closest("rect[data-t]");
      if (!c) return;
      const r = read[+c.dataset.t], u = +c.dataset.u;
      readout.textContent = `unit ${u + 1} after “${r.word}” (t=${r.step}): h = ${r.h[u].toFixed(4)}`;
    };
    cells.addEventListener("mouseover", show);
    cells.addEventListener("click", show);
    if (units > rows) {
      readout.textContent = `The first ${rows} of ${units} units are drawn.`;
    }
    return svg;
  }

  // Mark one word's column (t from 0) in both charts, or none with -1.
  function highlight(hosts, t) {
    for (const host of hosts) {
      const svg = host.querySelector("svg");
      if (!svg) continue;
      svg.querySelectorAll(".focus").forEach((n) => n.remove());
      if (t < 0) continue;
      const cw = +svg.dataset.cw;
      el("rect", { x: LEFT + t * cw, y: 0, width: cw, height: svg.dataset.plot, class: "focus" }, svg);
    }
  }

  return { moveColour, strongMove, line, heatmap, highlight };
})();
