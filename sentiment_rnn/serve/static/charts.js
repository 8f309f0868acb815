// SVG pictures of a trace: the colour scales, the running P(positive) as a line over the words
// read, and h_t as a heatmap (units x words) with the same columns. A text too long for the
// width wraps into rows of words, as a paragraph does. Plain JS, no library.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const LEFT = 56; // room for the axis labels
  const MIN_CW = 14; // the narrowest column; more words than fit wrap into another row
  const MAX_CW = 64;
  const MAX_UNITS = 128; // rows drawn at most; a wider h_t says so under the heatmap
  // The colour scale, from Python (sentiment_rnn.plots.colour_scale), written into the page
  // by the server: the same colours as Trace.plot(), inspect --plot and the notebook's HTML.
  const given = document.getElementById("colours");
  if (!given) throw new Error("the page has no colour scale: open it at / of sentiment-rnn serve");
  const SCALE = JSON.parse(given.textContent);

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

  const rgba = (c, a) => `rgba(${c.join(",")},${a})`;

  function opacity(change, full) {
    return SCALE.floor + (1 - SCALE.floor) * Math.sqrt(Math.min(1, Math.abs(change) / full));
  }

  // A change in P(positive) -> the up or down colour, as opaque as the move is large; `full`
  // (default SCALE.full) is the size drawn fully opaque: SCALE.ig_full for integrated gradients.
  function moveColour(change, full = SCALE.full) {
    return rgba(change >= 0 ? SCALE.up : SCALE.down, opacity(change, full).toFixed(3));
  }

  function strongMove(change, full = SCALE.full) {
    return +opacity(change, full).toFixed(3) >= SCALE.white_text;
  }

  // h in [-1, 1] -> state_low (negative), white (0), state_high (positive).
  function stateColour(h) {
    const to = h < 0 ? SCALE.state_low : SCALE.state_high, t = Math.min(1, Math.abs(h));
    return "rgb(" + to.map((c) => Math.round(255 + (c - 255) * t)).join(",") + ")";
  }

  // The page's own colours from the same scale: the verdict, the meter and the legends.
  function paint() {
    const root = document.documentElement.style;
    root.setProperty("--pos", rgba(SCALE.up, 1));
    root.setProperty("--neg", rgba(SCALE.down, 1));
    root.setProperty("--pos-soft", rgba(SCALE.up, 0.25));
    root.setProperty("--neg-soft", rgba(SCALE.down, 0.25));
    for (const n of document.querySelectorAll(".scale")) {
      n.style.background = `linear-gradient(90deg, ${rgba(SCALE.down, 1)}, ${rgba(SCALE.down,
        SCALE.floor)} 50%, ${rgba(SCALE.up, SCALE.floor)} 50%, ${rgba(SCALE.up, 1)})`;
    }
    for (const n of document.querySelectorAll(".hscale")) {
      n.style.background = `linear-gradient(90deg, ${stateColour(-1)}, #fff, ${stateColour(1)})`;
    }
    for (const n of document.querySelectorAll(".full")) n.textContent = SCALE.full.toFixed(2);
    for (const n of document.querySelectorAll(".ig-full")) n.textContent = SCALE.ig_full.toFixed(2);
  }

  // The words read in rows that fit the host's width: [{first, words}], and the column width.
  function rows(host, read) {
    const room = Math.max(MIN_CW, host.clientWidth - LEFT - 8);
    const count = Math.max(1, Math.ceil(read.length * MIN_CW / room));
    const per = Math.ceil(read.length / count);
    const cw = Math.min(MAX_CW, room / Math.max(1, per));
    const out = [];
    for (let first = 0; first < read.length; first += per) {
      out.push({ first, words: read.slice(first, first + per) });
    }
    return { cw, rows: out };
  }

  function short(word) {
    return word.length > 12 ? word.slice(0, 11) + "…" : word;
  }

  // The running P(positive): one point per word read, starting at sigmoid(b_y) before any,
  // coloured by how the word moved it.
  function line(host, read, start) {
    host.textContent = "";
    const { cw, rows: parts } = rows(host, read);
    const h = parts.length > 1 ? 100 : 150, top = 10, bottom = 24;
    let prev = start;
    for (const { first, words } of parts) {
      const wide = cw * words.length;
      const svg = el("svg", { width: LEFT + wide + 8, height: h + top + bottom, role: "img",
        "aria-label": `P(positive) after words ${first + 1} to ${first + words.length} read`,
        "data-cw": cw, "data-plot": h + top, "data-first": first, "data-count": words.length },
      host);
      const y = (p) => top + (1 - p) * h;
      el("rect", { x: LEFT, y: y(1), width: wide, height: h / 2, class: "zone",
        fill: rgba(SCALE.up, 1) }, svg);
      el("rect", { x: LEFT, y: y(0.5), width: wide, height: h / 2, class: "zone",
        fill: rgba(SCALE.down, 1) }, svg);
      for (const p of [0, 0.5, 1]) {
        el("line", { x1: LEFT - 4, x2: LEFT + wide, y1: y(p), y2: y(p),
          class: p === 0.5 ? "mid" : "grid" }, svg);
        text(svg, LEFT - 8, y(p) + 4, p.toFixed(1), { class: "axis", "text-anchor": "end" });
      }
      const xs = words.map((_, t) => LEFT + (t + 0.5) * cw);
      const pts = [[LEFT, y(prev)]].concat(words.map((r, t) => [xs[t], y(r.probability)]));
      el("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "pline" }, svg);
      words.forEach((r, t) => {
        const change = r.probability - prev;
        const dot = el("circle", { cx: xs[t], cy: y(r.probability), r: cw < 16 ? 3 : 4,
          class: "dot", fill: moveColour(change), "data-step": first + t }, svg);
        el("title", {}, dot).textContent = `${r.word} (t=${r.step}): P(positive) ` +
          `${r.probability.toFixed(4)} (${change >= 0 ? "+" : "−"}${Math.abs(change).toFixed(4)})`;
        prev = r.probability;
      });
      text(svg, LEFT, h + top + 18, first ? `words ${first + 1}–${first + words.length}`
        : `start ${start.toFixed(3)} (h₀ = 0)`, { class: "axis" });
    }
  }

  // h_t as a heatmap: a row per unit, a column per word read; the value shows on hover or tap.
  function heatmap(host, read, units, readout) {
    host.textContent = "";
    const shown = Math.min(units, MAX_UNITS);
    const { cw, rows: parts } = rows(host, read);
    const ch = shown <= 16 ? 14 : shown <= 48 ? 9 : 5;
    const every = Math.max(1, Math.ceil(shown / 8));
    for (const { first, words } of parts) {
      const longest = Math.max(...words.map((r) => short(r.word).length));
      const labels = Math.round(22 + longest * 6.4 * 0.82); // rotated word labels
      const svg = el("svg", { width: LEFT + cw * words.length + 8, height: shown * ch + labels,
        role: "img", "aria-label": `hidden state h_t: ${units} units by words ${first + 1} to ` +
        `${first + words.length}`, "data-cw": cw, "data-plot": shown * ch, "data-first": first,
        "data-count": words.length }, host);
      for (let u = 0; u < shown; u += every) {
        text(svg, LEFT - 6, u * ch + ch / 2 + 4, `unit ${u + 1}`, { class: "axis", "text-anchor": "end" });
      }
      const cells = el("g", {}, svg);
      words.forEach((r, i) => {
        const t = first + i;
        for (let u = 0; u < shown; u++) {
          const v = r.h[u];
          const cell = el("rect", { x: LEFT + i * cw, y: u * ch, width: cw, height: ch,
            fill: stateColour(v), "data-t": t, "data-u": u }, cells);
          el("title", {}, cell).textContent = `unit ${u + 1}, “${r.word}” (t=${r.step}): h = ${v.toFixed(4)}`;
        }
        const lx = LEFT + (i + 0.5) * cw + 4, ly = shown * ch + 8;
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
    }
    if (units > shown) {
      readout.textContent = `The first ${shown} of ${units} units are drawn.`;
    }
  }

  // Mark one word's column (t from 0) in both charts, or none with -1.
  function highlight(hosts, t) {
    for (const host of hosts) {
      host.querySelectorAll(".focus").forEach((n) => n.remove());
      if (t < 0) continue;
      for (const svg of host.querySelectorAll("svg[data-first]")) {
        const first = +svg.dataset.first;
        if (t < first || t >= first + +svg.dataset.count) continue;
        const cw = +svg.dataset.cw;
        el("rect", { x: LEFT + (t - first) * cw, y: 0, width: cw, height: svg.dataset.plot,
          class: "focus" }, svg);
      }
    }
  }

  return { moveColour, strongMove, paint, line, heatmap, highlight, igFull: SCALE.ig_full };
})();
