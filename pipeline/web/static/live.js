// Live values without reloading: every 1.5 s, fetch the page's JSON twin (body[data-live]) and
// update [data-stat] elements and tbody[data-rows] tables in place. Text only (textContent), never HTML.
// Formats mirror pipeline/web/formats.py's fmt(). Charts (figure[data-chart]) are the one exception: the
// twin holds the SVG the server drew (pipeline/web/charts.py), parsed here as XML, never as HTML, and
// swapped in only if it holds nothing but drawing elements and no handler or link attribute.
(() => {
  "use strict";
  const url = document.body.dataset.live;
  if (!url) return;
  const EVERY_MS = 1500;
  const status = document.getElementById("live-status");
  const get = (data, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), data);

  function fmt(value, kind) {
    if (value === null || value === undefined) return "—";
    switch (kind) {
      case "rate": return value.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2}) + "/s";
      case "money": return value.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 6});
    }
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en-US") : String(value);
    if (Array.isArray(value) && !value.some((v) => v !== null && typeof v === "object")) {
      return value.length ? value.map((v) => fmt(v, "")).join(", ") : "—";
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function fillRows(tbody, rows) {
    const cols = tbody.dataset.cols.split(",");
    const fresh = rows.map((row) => {
      const tr = document.createElement("tr");
      for (const col of cols) {
        const td = document.createElement("td");
        const value = row[col];
        td.textContent = fmt(value, "");
        if (typeof value === "number") td.className = "num";
        if (value === null || value === undefined) td.className = "none";
        tr.append(td);
      }
      return tr;
    });
    if (!fresh.length) {
      const tr = document.createElement("tr"), td = document.createElement("td");
      tr.className = "empty";
      td.colSpan = cols.length;
      td.textContent = tbody.dataset.empty;
      tr.append(td);
      fresh.push(tr);
    }
    const headers = tbody.parentElement.tHead ? tbody.parentElement.tHead.rows[0].cells : [];
    cols.forEach((col, i) => {
      if (headers[i] && rows.some((row) => typeof row[col] === "number")) headers[i].classList.add("num");
    });
    const same = fresh.length === tbody.rows.length && fresh.every((tr, i) => tr.textContent === tbody.rows[i].textContent);
    if (!same) tbody.replaceChildren(...fresh);
  }

  const SVG = "http://www.w3.org/2000/svg";
  const DRAWING = new Set(["svg", "title", "g", "line", "path", "circle", "text"]);
  const drawn = new WeakMap();

  function drawing(markup) {
    const root = new DOMParser().parseFromString(markup, "image/svg+xml").documentElement;
    for (const el of [root, ...root.querySelectorAll("*")]) {
      if (el.namespaceURI !== SVG || !DRAWING.has(el.localName)) return null;  // also a parser error
      if ([...el.attributes].some((a) => /^on|href$/i.test(a.localName))) return null;
    }
    return document.importNode(root, true);
  }

  function fillChart(figure, markup) {
    if (typeof markup !== "string" || drawn.get(figure) === markup) return;
    const svg = drawing(markup);
    if (!svg) throw new Error("a chart that is not a drawing");
    figure.replaceChildren(svg);
    drawn.set(figure, markup);
  }

  function update(data) {
    for (const el of document.querySelectorAll("[data-stat]")) {
      const text = fmt(get(data, el.dataset.stat), el.dataset.format);
      if (el.textContent !== text) el.textContent = text;
    }
    for (const tbody of document.querySelectorAll("tbody[data-rows]")) {
      const rows = get(data, tbody.dataset.rows);
      if (Array.isArray(rows)) fillRows(tbody, rows);
    }
    for (const figure of document.querySelectorAll("figure[data-chart]")) fillChart(figure, get(data, figure.dataset.chart));
  }

  async function tick() {
    try {
      const response = await fetch(url, {headers: {Accept: "application/json"}, cache: "no-store"});
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      update(await response.json());
      if (status) { status.textContent = "live · updated " + new Date().toLocaleTimeString("en-GB"); status.className = ""; }
    } catch (error) {
      if (status) { status.textContent = "update failed: " + error.message; status.className = "stale"; }
    } finally {
      setTimeout(tick, EVERY_MS);
    }
  }
  setTimeout(tick, EVERY_MS);
})();
