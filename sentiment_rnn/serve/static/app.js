// The page: trace the review as it is typed (debounced) or picked from the examples, colour
// the words, draw P(positive) and h_t, leave a word out on click, keep the address shareable
// (?text=...), fill the model panel. Talks only to this server's own API.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const box = $("text");
  const DEBOUNCE_MS = 250;
  const LINK_LIMIT = 8000; // characters of text kept in the address
  let timer = null, seq = 0, report = null;

  async function api(path, body) {
    const init = body === undefined ? {} : { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `the server answered ${res.status}`);
    return data;
  }

  function node(tag, cls, content) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (content !== undefined) n.textContent = content;
    return n;
  }

  const signed = (x) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(4);
  const named = (path) => String(path).split(/[\\/]/).filter(Boolean).pop() || ""; // a file's name
  const FILES = ["data", "validation_data", "unlabelled"]; // settings that are paths
  const plural = (n, one, many) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

  function status(message, bad) {
    $("status").textContent = message;
    $("status").classList.toggle("bad", !!bad);
  }

  function share(text) {
    const query = text && text.length <= LINK_LIMIT ? "?text=" + encodeURIComponent(text) : "";
    $("link").href = query || location.pathname;
    $("link").hidden = !query;
    try { history.replaceState(null, "", query || location.pathname); } catch (e) { /* too long */ }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(update, DEBOUNCE_MS);
  }

  async function update() {
    const text = box.value, mine = ++seq;
    share(text);
    $("examples").hidden = text !== "";
    if (!text.trim()) {
      $("result").hidden = true;
      status("");
      return;
    }
    status("Reading…");
    try {
      const r = await api("/api/trace", { text });
      if (mine !== seq) return; // a newer text is on its way
      render(r);
      status("");
    } catch (e) {
      if (mine === seq) status(e.message, true);
    }
  }

  function render(r) {
    report = r;
    const p = r.probability;
    $("result").hidden = false;
    $("label").textContent = r.label;
    $("label").className = "label " + r.label;
    $("probability").textContent = p === null ? "–" : p.toFixed(4);
    $("meter-fill").hidden = p === null;
    $("meter-fill").style.left = p === null ? "0" : (p * 100).toFixed(1) + "%";
    const words = $("words");
    words.textContent = "";
    const read = [];
    let prev = r.start_probability;
    const first = r.tokens.findIndex((t) => t.status === "read");
    const skip = r.cut > 40 && first > 0 ? first : 0; // a long text: its unread start in one
    let next = 0; // the index of the next word of the text; the server lists them with gaps
    r.tokens.forEach((row, i) => {
      if (i < skip) return;
      if (row.index > next) { // words not listed: none of them is read
        const span = node("span", "word cut", `… ${plural(row.index - next,
          next ? "word" : "earlier word", next ? "words" : "earlier words")}`);
        span.title = next ? "not read: out of the vocabulary or cut by max_len"
          : `not read: the model reads the last ${r.max_len} words`;
        words.append(span, " ");
      }
      next = row.index + 1;
      if (row.status !== "read") {
        const why = row.status === "dropped" ? "not in the vocabulary: dropped"
          : `cut by max_len (the model reads the last ${r.max_len} words): not read`;
        const span = node("span", "word " + row.status, row.word);
        span.title = why;
        words.append(span, " ");
        return;
      }
      const change = row.probability - prev, ig = row.integrated_gradients;
      prev = row.probability;
      const b = node("button", "word read", row.word);
      b.type = "button";
      b.dataset.index = row.index;
      b.dataset.t = read.length;
      b.dataset.change = change;
      const igText = ig === null || ig === undefined ? "" : `, integrated gradients ${signed(ig)}`;
      if (igText) b.dataset.ig = ig;
      b.title = `P(positive) ${row.probability.toFixed(4)} (${signed(change)})${igText}; click to leave it out`;
      b.setAttribute("aria-label", `${row.word}: ${signed(change)}, P(positive) ${row.probability.toFixed(4)}${igText}`);
      words.append(b, " ");
      read.push(row);
    });
    const dropped = r.tokens.filter((t) => t.status === "dropped").length + r.omitted.dropped;
    $("counts").textContent = `${plural(read.length, "word", "words")} read` +
      (dropped ? `, ${plural(dropped, "word", "words")} not in the vocabulary` : "") +
      (r.cut ? `, ${plural(r.cut, "word", "words")} cut (max_len ${r.max_len})` : "") +
      (p === null ? ": no word the model knows, so no probability" : "");
    const a = r.attribution;
    $("ig-check").textContent = a ? `Integrated gradients add up to ${signed(a.ig_sum)}; ` +
      `logit(review) − logit(zero word vectors) = ${signed(a.logit - a.baseline_logit)}: off by ` +
      `${(a.relative_error * 100).toFixed(2)}%${a.ok ? "" : ", over 1%"} (${a.steps} steps).` : "";
    $("leave").textContent = "";
    paintWords();
    drawCharts();
  }

  // The words read, coloured by the chosen measure: the move of P(positive), or the integrated
  // gradients (logit; a word without them shows the floor colour).
  function paintWords() {
    const byIg = $("by-ig").checked;
    for (const b of document.querySelectorAll("#words button.word")) {
      const value = byIg ? +(b.dataset.ig || 0) : +b.dataset.change;
      const full = byIg ? Charts.igFull : undefined;
      b.style.background = Charts.moveColour(value, full);
      b.classList.toggle("strong", Charts.strongMove(value, full));
    }
    $("legend-move").hidden = byIg;
    $("legend-ig").hidden = !byIg;
    $("ig-check").hidden = !byIg || !$("ig-check").textContent;
  }

  function drawCharts() {
    const r = report, read = r.tokens.filter((t) => t.status === "read");
    $("cell").textContent = "Hover over (or tap) a cell for its value.";
    if (read.length) {
      Charts.line($("line"), read, r.start_probability);
      Charts.heatmap($("heat"), read, r.units, $("cell"));
      const selected = document.querySelector("#words .word.selected");
      if (selected) Charts.highlight([$("line"), $("heat")], +selected.dataset.t);
    } else {
      $("line").textContent = "";
      $("heat").textContent = "";
    }
  }

  async function leaveOut(button) {
    const r = report, index = +button.dataset.index;
    document.querySelectorAll(".word.selected").forEach((b) => b.classList.remove("selected"));
    button.classList.add("selected");
    Charts.highlight([$("line"), $("heat")], +button.dataset.t);
    try {
      const x = await api("/api/leave-out", { text: r.text, index });
      if (r !== report) return;
      $("leave").textContent = x.without === null
        ? `Without “${x.word}”: no word the model knows is left (unknown).`
        : `Without “${x.word}”: P(positive) = ${x.without.toFixed(4)}, ${x.label_without} ` +
          `(${signed(x.change)} from ${x.probability.toFixed(4)}).`;
    } catch (e) {
      $("leave").textContent = e.message;
    }
  }

  $("words").addEventListener("click", (e) => {
    const b = e.target.closest("button.word");
    if (b) leaveOut(b);
  });
  $("words").addEventListener("keydown", (e) => { // arrows move between the words read
    const b = e.target.closest("button.word");
    if (!b || (e.key !== "ArrowRight" && e.key !== "ArrowLeft")) return;
    const all = [...document.querySelectorAll("#words button.word")];
    const next = all[all.indexOf(b) + (e.key === "ArrowRight" ? 1 : -1)];
    if (next) { next.focus(); e.preventDefault(); }
  });
  $("words").addEventListener("focusin", (e) => {
    const b = e.target.closest("button.word");
    if (b) Charts.highlight([$("line"), $("heat")], +b.dataset.t);
  });
  box.addEventListener("input", schedule);
  for (const id of ["by-move", "by-ig"]) $(id).addEventListener("change", paintWords);
  $("examples").addEventListener("click", (e) => { // an example review: fill the box, read it
    const b = e.target.closest("button.example");
    if (!b) return;
    clearTimeout(timer);
    box.value = b.textContent;
    update();
  });
  let resized = null, lastWidth = window.innerWidth;
  window.addEventListener("resize", () => { // redraw the charts for the new width
    clearTimeout(resized);
    resized = setTimeout(() => {
      if (report && !$("result").hidden && window.innerWidth !== lastWidth) drawCharts();
      lastWidth = window.innerWidth;
    }, 200);
  });

  async function model() {
    try {
      const [m, run] = await Promise.all([api("/api/model"), api("/api/run")]);
      const c = run.config;
      $("m-name").textContent = named(run.model); // no path of the serving machine
      $("m-arch").textContent = `Embedding(${c.vocab_size}, ${c.embed_dim}) → ${({simple: "SimpleRNN", gru: "GRU", lstm: "LSTM"})[c.cell] || "SimpleRNN"}(${c.units})` +
        ` → Dense(1, sigmoid); reads the last ${c.max_len} words` +
        (c.drop_oov ? ", drops unknown words" : ", unknown words as <oov>");
      $("m-params").textContent = run.parameters.toLocaleString("en");
      const gated = {gru: "a GRU: its update gate z_t decides, word by word, how much of h_{t−1} to keep",
                     lstm: "an LSTM: its forget gate f_t decides, word by word, how much of the cell state c_{t−1} to keep"}[c.cell];
      if (gated) $("intro").textContent = `How ${gated}; P(positive) = σ(h_t W_hy + b_y) after each word.`;
      const ev = run.evaluation, acc = $("m-acc");
      acc.textContent = ev ? `${(ev.accuracy * 100).toFixed(2)}%` : "not evaluated";
      if (ev) {
        acc.append(node("span", "sub", [ev.n ? `${ev.n.toLocaleString("en")} reviews` : "",
          ev.data || ""].filter(Boolean).join(", ")));
      }
      $("m-rho").textContent = `ρ = ${m.memory.spectral_radius.toFixed(3)}`;
      $("m-meaning").textContent = m.memory.meaning;
      for (const [id, rows] of [["m-pos", m.words.most_positive], ["m-neg", m.words.most_negative]]) {
        $(id).textContent = "";
        for (const w of rows.slice(0, 10)) {
          const li = node("li");
          li.append(node("span", "", w.word), node("span", "num", w.probability.toFixed(3)));
          $(id).append(li);
        }
      }
      const table = $("m-settings");
      table.textContent = "";
      for (const [k, v] of Object.entries(c)) {
        const tr = node("tr");
        const shown = Array.isArray(v) ? v.join(", ")
          : FILES.includes(k) && v ? named(v) : String(v);
        tr.append(node("th", "", k), node("td", "", shown));
        table.append(tr);
      }
    } catch (e) {
      $("m-name").textContent = "The model panel could not be loaded: " + e.message;
    }
  }

  Charts.paint();
  const given = new URLSearchParams(location.search).get("text");
  if (given !== null) {
    box.value = given;
    update();
  }
  model();
})();
