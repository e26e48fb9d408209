// wirewatch dashboard. Every value shown comes from article text or the broker: it is put in the page
// with textContent / attributes only, never as HTML.
"use strict";

const MAX_ALERTS = 200;
const STATUS_EVERY_MS = 3000;
const alertIds = new Set();

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fmt(value) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(1);
  return String(value);
}

function safeUrl(url) {
  // Only absolute http(s) links: a javascript: URL in an article must not become clickable, and a relative
  // one must not become a link into this dashboard (no base URL: a relative URL throws).
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

function fillTable(id, rows, cells, rowClass) {
  const body = document.querySelector(`#${id} tbody`);
  const fresh = rows.map((row) => {
    const tr = el("tr", { class: rowClass ? rowClass(row) : null });
    for (const [value, cls] of cells(row)) tr.append(el("td", { class: cls || null, text: fmt(value) }));
    return tr;
  });
  body.replaceChildren(...fresh);
}

function renderStatus(s) {
  const w = s.worker;
  document.getElementById("worker").textContent =
    `${w.app_id} · ${w.broker} · pid ${w.pid} · owns ${w.assigned.length} partition(s)`;
  document.getElementById("updated").textContent = "updated " + new Date(s.time * 1000).toLocaleTimeString();

  fillTable("throughput", s.throughput.topics, (t) => [
    [t.topic], [t.per_min_1m, "num"], [t.per_min_5m, "num"], [t.total, "num"],
  ]);

  const lag = s.lag;
  fillTable("lag", lag.rows, (r) => [
    [r.group, "group"], [r.topic], [r.partition, "num"], [r.committed, "num"], [r.end, "num"], [r.lag, "num"],
  ], (r) => (r.lag > 0 ? "lagging" : null));
  document.getElementById("lag-total").textContent = lag.taken_at ? `(total ${fmt(lag.total)})` : "";
  document.getElementById("lag-note").textContent = lag.error
    ? "lag unavailable: " + lag.error
    : (lag.taken_at ? `groups: ${lag.groups.join(", ")}; refreshed every ${lag.interval_s}s` : "reading lag…");

  const stages = Object.entries(s.processing);
  fillTable("processing", stages, ([stage, p]) => [
    [stage], [p.p50, "num"], [p.p95, "num"], [p.p99, "num"], [p.count, "num"],
  ]);
  document.getElementById("processing-note").textContent = stages.length
    ? "enrich: per article; ingest_to_alert: broker timestamp to alert sent"
    : "nothing processed by this worker yet";

  const dl = s.deadletters;
  document.getElementById("deadletter-total").textContent =
    dl.retained === null ? "" : `(${fmt(dl.retained)} on the topic)`;
  fillTable("deadletters", dl.recent, (d) => [[d.time], [d.stage], [d.reason], [d.error, "error"]]);

  const feeds = s.feeds;
  fillTable("feeds", feeds.feeds, (f) => [
    [f.id], [f.new, "num"], [f.duplicates, "num"], [f.errors, "num"], [f.last_success], [f.last_error, "error"],
  ], (f) => (f.consecutive_errors > 0 ? "failing" : null));
  document.getElementById("feeds-note").textContent = feeds.error
    ? "feed health unavailable: " + feeds.error
    : (feeds.configured ? "" : "no feeds configured");

  const subs = s.subscriptions || [];
  const when = (t) => (t ? new Date(t * 1000).toLocaleString() : null);
  fillTable("subscriptions", subs, (r) => [
    [r.id], [r.owner], [r.channels.join(", ")], [r.delivered, "num"], [r.failed, "num"],
    [when(r.last_delivery)], [r.last_error, "error"],
  ], (r) => (r.last_error && (!r.last_delivery || r.last_error_at > r.last_delivery) ? "failing" : null));
  document.getElementById("subscriptions-note").textContent = subs.length
    ? "deliveries by this worker" : "no subscriptions";
}

function alertItem(a) {
  const evidence = el("ul", { class: "evidence" });
  for (const e of (a.evidence || []).slice(0, 3)) evidence.append(el("li", { text: e.text }));
  const url = a.url ? safeUrl(a.url) : null;
  const title = a.title || a.url || a.alert_id;
  const source = url
    ? el("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank", class: "title", text: title })
    : el("span", { class: "title", text: title });
  const details = Object.entries(a.details || {})
    .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}: ${v}`)
    .join(" · ");
  return el("li", { class: `alert sev-${String(a.severity || "low").replace(/[^a-z]/g, "")}`, "data-alert-id": a.alert_id },
    el("div", { class: "line" },
      el("span", { class: "severity", text: a.severity }),
      el("span", { class: "kind", text: a.kind }),
      el("span", { class: "modality", text: a.modality }),
      el("span", { class: "actor", text: a.actor }),
      a.speaker ? el("span", { class: "speaker", text: "speaker: " + a.speaker }) : null,
      el("span", { class: "muted", text: a.detected_at })),
    el("div", { class: "source" }, source, el("span", { class: "muted feed", text: a.feed ? ` (${a.feed})` : "" })),
    details ? el("div", { class: "details muted", text: details }) : null,
    evidence);
}

function addAlert(a) {
  if (!a || !a.alert_id || alertIds.has(a.alert_id)) return;
  alertIds.add(a.alert_id);
  const list = document.getElementById("alerts");
  list.prepend(alertItem(a)); // newest first
  while (list.children.length > MAX_ALERTS) {
    alertIds.delete(list.lastElementChild.getAttribute("data-alert-id"));
    list.lastElementChild.remove();
  }
  document.getElementById("no-alerts").hidden = list.children.length > 0;
  document.getElementById("alert-count").textContent = `(${list.children.length})`;
}

async function getJson(path) {
  const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("unauthorized");
  }
  return response.json();
}

async function refresh() {
  try {
    renderStatus(await getJson("/api/status"));
  } catch (e) {
    document.getElementById("updated").textContent = "status unavailable: " + e;
  } finally {
    setTimeout(refresh, STATUS_EVERY_MS);
  }
}

function connectAlerts() {
  const state = document.getElementById("stream-state");
  const source = new EventSource("/api/alerts/stream");
  source.addEventListener("open", () => { state.textContent = "alerts: live"; state.className = "pill live"; });
  source.addEventListener("error", () => { state.textContent = "alerts: reconnecting"; state.className = "pill"; });
  source.addEventListener("alert", (event) => {
    try { addAlert(JSON.parse(event.data)); } catch (e) { /* a malformed event is skipped */ }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  refresh();
  connectAlerts();
});

// ---- the archive: incidents and search (GET /api/incidents, /api/search) -----------------------------------
const INCIDENTS_EVERY_MS = 5000;
let searchCursor = null;

function marked(segments, cls) {
  // Highlights come as {text, hit} segments: hits become <mark> elements holding text, never markup.
  const span = el("span", { class: cls });
  for (const s of segments || []) span.append(s.hit ? el("mark", { text: s.text }) : document.createTextNode(s.text));
  return span;
}

function link(url, text, cls) {
  const href = url ? safeUrl(url) : null;
  return href
    ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank", class: cls, text })
    : el("span", { class: cls, text });
}

function incidentItem(i) {
  const details = Object.entries(i.details || {})
    .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}: ${v}`)
    .join(" · ");
  const reports = el("ol", { class: "reports" });
  for (const r of i.reports || []) {
    reports.append(el("li", { class: "report" },
      el("span", { class: "muted", text: fmt(r.published_at || r.detected_at) + " " }),
      link(r.url, r.title || r.article_id, "title"),
      el("span", { class: "muted feed", text: r.feed ? ` (${r.feed})` : "" })));
  }
  const timeline = el("ol", { class: "timeline muted" });
  for (const a of i.alerts || []) {
    // each report's first evidence sentence ({text, start, end}, as /api/alerts gives it), as text
    const evidence = (a.evidence || [])[0];
    timeline.append(el("li", { text: `${fmt(a.detected_at)} ${a.modality} ${a.kind}${a.speaker ? " · " + a.speaker : ""}` },
      evidence ? el("q", { class: "evidence", text: evidence.text }) : null));
  }
  return el("li", { class: `incident sev-${String(i.max_severity || "low").replace(/[^a-z]/g, "")}`, "data-incident-id": i.id },
    el("div", { class: "line" },
      el("span", { class: "kind", text: i.kind }),
      el("span", { class: "modality", text: i.modality }),
      el("span", { class: "actor", text: i.actor }),
      el("span", { class: "muted", text: `${fmt(i.first_seen)} → ${fmt(i.last_seen)}` }),
      el("span", { class: "muted counts", text: `${i.report_count} report(s), ${i.outlets.length} outlet(s)` })),
    el("div", { class: "headline", text: i.headline }),
    details ? el("div", { class: "details muted", text: details }) : null,
    reports,
    timeline);
}

async function refreshIncidents() {
  const note = document.getElementById("incidents-note");
  try {
    const body = await getJson("/api/incidents?limit=50");
    if (body.error) throw new Error(body.error);
    document.getElementById("incidents").replaceChildren(...body.incidents.map(incidentItem));
    document.getElementById("incident-count").textContent = `(${body.incidents.length})`;
    note.textContent = body.incidents.length ? "" : "No incidents in the archive yet.";
  } catch (e) {
    note.textContent = "incidents unavailable: " + e.message;
  } finally {
    setTimeout(refreshIncidents, INCIDENTS_EVERY_MS);
  }
}

function resultItem(r) {
  const entities = (r.entities || []).slice(0, 6).map((e) => `${e.name} (${e.count})`).join(", ");
  const stances = (r.stances || []).slice(0, 4).map((s) => `${s.speaker_canonical || s.speaker}: ${s.stance} ${s.target}`).join(" · ");
  const href = r.url ? safeUrl(r.url) : null;
  const title = marked(r.title_highlight, "title");
  return el("li", { class: "result", "data-article-id": r.id },
    el("div", { class: "line" },
      href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, title) : title,
      el("span", { class: "muted feed", text: `${r.feed} · ${fmt(r.published_at)}` })),
    marked(r.snippet, "snippet"),
    entities ? el("div", { class: "entities muted", text: "entities: " + entities }) : null,
    stances ? el("div", { class: "stances muted", text: "stances: " + stances }) : null);
}

async function runSearch(more) {
  const form = document.getElementById("search-form");
  const note = document.getElementById("search-note");
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form).entries()) if (value) params.set(key, String(value));
  if (more && searchCursor) params.set("cursor", searchCursor);
  const response = await fetch("/api/search?" + params, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) { window.location.assign("/login"); return; }
  const body = await response.json();
  const list = document.getElementById("results");
  if (!response.ok) {
    note.textContent = body.error || `search failed (${response.status})`;
    note.className = "muted error";
    return;
  }
  const items = body.results.map(resultItem);
  if (more) list.append(...items); else list.replaceChildren(...items);
  searchCursor = body.next_cursor;
  document.getElementById("search-more").hidden = !searchCursor;
  note.className = "muted";
  note.textContent = list.children.length ? `${list.children.length} article(s) shown` : "No article matches.";
}

function setupSearch() {
  const form = document.getElementById("search-form");
  let timer = null;
  form.addEventListener("submit", (event) => { event.preventDefault(); runSearch(false); });
  // Live: search again shortly after the user stops typing or changes a filter.
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => runSearch(false), 400); });
  document.getElementById("search-more").addEventListener("click", () => runSearch(true));
}

document.addEventListener("DOMContentLoaded", () => {
  refreshIncidents();
  setupSearch();
});
