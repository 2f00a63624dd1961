/*
 * app.js - the dashboard: what is on fire, since when, which code and
 * API, and what to do.  It keeps the view's state (range, filters,
 * display preferences) in the URL's fragment so that a view can be
 * bookmarked or put on a wall screen, asks the API for each panel, and
 * redraws every 15 s (or #refresh=N seconds) unless paused.
 *
 * Panels fail one by one: a failed call shows its error in its own panel
 * and the rest of the page carries on.  Optional API features (alerts,
 * batch lookup, code= on stats, 2xx counts per API) are probed once; the
 * page says what it lacks and works without them.
 */
import { ApiError, caps, getJSON, optional, postJSON } from "./api.js";
import { ErrorChart } from "./chart.js";
import { fill, fmtAgo, fmtDuration, fmtInt, fmtNum, fmtPct, fmtRate,
    fmtTime, fromLocalInput, h, parseTime, toLocalInput } from "./fmt.js";
import { extractRequestIds } from "./ids.js";

performance.mark("kmswatch:start");

const REFRESH_S = 15;		/* the default; #refresh=N (N >= 5) sets it */
const RANGES = {
	"1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3,
};
/* Bucket sizes (seconds) the chart picks from: about 360 buckets a range. */
const STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
    43200, 86400];
const BUCKETS_WANTED = 360;
const CODES_SHOWN = 15;
const PAGE_SIZE = 25;
const LOOKUP_MAX = 50;
const CONTEXT_MS = 5 * 60e3;	/* "around it", as the batch lookup does */
const CONTEXT_MAX = 20;
const BACKTEST_TTL_MS = 60e3;

const $ = (id) => document.getElementById(id);
const secs = (ms) => Math.floor(ms / 1000);

/* The view.  Everything but paused and the table's paging is in the URL. */
const state = {
	range: "1h",
	from: null,		/* ms, custom ranges only */
	to: null,
	code: null,		/* filters everything */
	status: null,		/* filter the table of recent errors */
	api: null,
	utc: true,
	large: false,
	theme: "auto",		/* auto, dark or light */
	refreshS: REFRESH_S,
	paused: false,
};

/* The table's pages: the cursor of each page seen, so "Newer" can go back. */
const pages = { cursors: [null], at: 0, next: null };

const catalog = new Map();	/* code -> its catalog rows */
let chart = null;
let health = null;		/* the last /healthz answer */
let activeAlerts = [];
let backtest = { key: "", at: 0, episodes: [] };
let lastCodes = null;		/* the last stats by code, for the hint */

/* ---------------------------------------------------------------------
 * State in the URL: #range=6h&code=X&status=409&api=Decrypt&large=1, or
 * #from=2026-12-03T09:00:00Z&to=...  Display preferences also persist
 * in localStorage, so a browser keeps them without a bookmark.
 */

function parseHashTime(s) {
	if (/^\d+$/.test(s))
		return Number(s) * 1000;
	return Date.parse(s);
}

function readHash() {
	const p = new URLSearchParams(location.hash.slice(1));
	const from = parseHashTime(p.get("from") || "");
	const to = parseHashTime(p.get("to") || "");

	if (Number.isFinite(from) && Number.isFinite(to) && from < to) {
		state.range = "custom";
		state.from = from;
		state.to = to;
	} else {
		state.range = RANGES[p.get("range")] ? p.get("range") : "1h";
		state.from = state.to = null;
	}
	state.code = p.get("code") || null;
	state.status = p.get("status") || null;
	state.api = p.get("api") || null;
	for (const k of ["utc", "large"]) {
		if (p.has(k))
			state[k] = p.get(k) === "1";
	}
	if (["auto", "dark", "light"].includes(p.get("theme")))
		state.theme = p.get("theme");
	const every = Number(p.get("refresh"));
	state.refreshS = Number.isInteger(every) && every >= 5 ? every :
	    REFRESH_S;
	return p.get("lookup");
}

function writeHash() {
	const p = new URLSearchParams();
	if (state.range === "custom") {
		p.set("from", new Date(state.from).toISOString());
		p.set("to", new Date(state.to).toISOString());
	} else
		p.set("range", state.range);
	for (const k of ["code", "status", "api"]) {
		if (state[k])
			p.set(k, state[k]);
	}
	if (state.large)
		p.set("large", "1");
	if (state.refreshS !== REFRESH_S)
		p.set("refresh", String(state.refreshS));
	/* replaceState: a refresh of the view is not a step back in history. */
	history.replaceState(null, "", "#" + p.toString());
}

function readPrefs() {
	try {
		const saved = JSON.parse(localStorage.getItem("kmswatch") || "{}");
		for (const k of ["utc", "large", "theme"]) {
			if (k in saved)
				state[k] = saved[k];
		}
	} catch {
		/* Storage off or garbage in it: the defaults will do. */
	}
}

function savePrefs() {
	try {
		localStorage.setItem("kmswatch", JSON.stringify({
		    utc: state.utc, large: state.large, theme: state.theme }));
	} catch {
		/* Private mode: the preference lasts this page only. */
	}
}

/* ---------------------------------------------------------------------
 * The window every panel asks about: [from, to) in ms, aligned to the
 * chart's step so that the stats and the chart count the same minutes.
 */

function pickStep(spanMs) {
	const want = spanMs / 1000 / BUCKETS_WANTED;
	return STEPS.find((s) => s >= want) ?? STEPS[STEPS.length - 1];
}

function currentWindow(now = Date.now()) {
	let from, to, step;

	if (state.range === "custom") {
		step = pickStep(state.to - state.from);
		from = Math.floor(state.from / (step * 1000)) * step * 1000;
		to = Math.ceil(state.to / (step * 1000)) * step * 1000;
	} else {
		const span = RANGES[state.range];
		step = pickStep(span);
		to = Math.ceil(now / (step * 1000)) * step * 1000;
		from = to - span;
	}
	return { from, to, step, span: to - from, now };
}

function rangeName(w) {
	if (state.range !== "custom")
		return `the last ${state.range.replace(/[hd]/, " $&")}`;
	return `${fmtTime(w.from, state.utc)} – ${fmtTime(w.to, state.utc)}`;
}

/* ---------------------------------------------------------------------
 * Refreshing.  One refresh at a time; a change during one queues another,
 * so the page always ends on the current state.
 */

let running = null;
let again = false;
let refreshes = 0;
let firstRender = null;
let marked = false;

/* Runs a panel's loader; a failure is shown in el (a tbody or a box). */
function guard(el, fn) {
	return fn().catch((e) => {
		if (!(e instanceof ApiError))
			console.error(e);	/* a bug in the page */
		if (el === null)
			return e;
		const msg = h("span", { class: "panel-error" }, e.message);
		fill(el, el.tagName === "TBODY" ?
		    h("tr", {}, h("td", { colspan: 9 }, msg)) : msg);
		return e;
	});
}

async function refreshOnce() {
	const w = currentWindow();
	const results = await Promise.all([
		guard($("chart-key"), () => loadChart(w)),
		guard($("codes").tBodies[0], () => loadSummary(w)),
		guard($("alerts"), () => loadAlerts()),
		guard(null, () => loadHealth()),
		pages.at === 0 ? guard($("recent").tBodies[0],
		    () => loadTable(w)) : null,
	]);
	const failed = results.filter((r) => r instanceof Error);
	/* After both the counts and /healthz are in. */
	if (lastCodes !== null)
		renderHint(w, lastCodes);
	const unreachable = failed.some((e) => e instanceof ApiError &&
	    e.status === 0);

	fill($("updated"), unreachable ?
	    h("span", { class: "panel-error" },
		`daemon unreachable at ${fmtTime(Date.now(), state.utc, true)}`) :
	    `updated ${fmtTime(Date.now(), state.utc, true)}`);
	renderCaps();
}

function refresh() {
	if (running !== null) {
		again = true;
		return running;
	}
	running = (async () => {
		do {
			again = false;
			await refreshOnce();
			refreshes++;
		} while (again);
		running = null;
		/* Not awaited: a hidden tab runs no animation frames. */
		markFirstRender();
	})();
	return running;
}

/*
 * Time to the first full render, for the figures: from navigation start
 * to the frame after every panel was filled in.
 */
async function markFirstRender() {
	if (marked)
		return;
	marked = true;
	await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
	performance.mark("kmswatch:first-render");
	firstRender = performance.now();
	document.documentElement.dataset.rendered = "1";
}

/* A state change from the user: remember it, reset paging, redraw. */
function changed() {
	pages.cursors = [null];
	pages.at = 0;
	writeHash();
	renderControls();
	return refresh();
}

function setCode(code) {
	state.code = code || null;
	return changed();
}

/* ---------------------------------------------------------------------
 * The chart and its alert episodes.
 */

async function loadChart(w) {
	const [ts, episodes] = await Promise.all([
		getJSON("api/v1/timeseries", { from: secs(w.from),
		    to: secs(w.to), step: w.step, code: state.code }),
		loadEpisodes(w).catch(() => []),
	]);
	$("chart-title").textContent = state.code ?
	    `${state.code} per minute` : "Errors per minute, by code";
	chart.render(ts, w.from, w.to, episodes, state.utc);
	renderRate(ts, w);
}

/*
 * Alert episodes over the range, from the rules' backtest (asked again
 * when the range moves, or once a minute), else from the active alerts.
 */
async function loadEpisodes(w) {
	const key = `${w.from}/${w.to}`;

	if (caps.backtest !== false &&
	    (backtest.key !== key || w.now - backtest.at > BACKTEST_TTL_MS)) {
		const doc = await optional("backtest", () => getJSON(
		    "api/v1/alerts/backtest", { from: secs(w.from),
		    to: secs(w.to) }));
		if (doc !== null) {
			backtest = { key, at: w.now,
			    episodes: (doc.episodes || []).map(episode) };
		}
	}
	if (caps.backtest)
		return backtest.episodes;
	return activeAlerts.map(episode);
}

function episode(e) {
	return { rule: e.rule || "", code: e.code || "",
	    severity: e.severity || "", start: parseTime(e.started_at),
	    end: e.resolved_at ? parseTime(e.resolved_at) : null };
}

/* "Errors per minute": the last whole bucket, and the peak of the range. */
function renderRate(ts, w) {
	const perMin = ts.step / 60;
	const n = ts.series.length > 0 ? ts.series[0].points.length : 0;
	const sums = new Array(n).fill(0);
	for (const s of ts.series)
		s.points.forEach((p, i) => { sums[i] += p[1]; });

	/* The bucket still filling (live ranges) would read low: skip it. */
	let last = n - 1;
	while (last >= 0 && ts.series[0].points[last][0] * 1000 +
	    ts.step * 1000 > w.now)
		last--;
	let peak = -1;
	sums.forEach((v, i) => { if (peak < 0 || v > sums[peak]) peak = i; });

	$("t-rate").textContent = last >= 0 ? fmtRate(sums[last] / perMin) : "–";
	const t = (i) => fmtTime(ts.series[0].points[i][0] * 1000, state.utc,
	    true);
	fill($("t-rate-sub"), last >= 0 ? `bucket at ${t(last)}` : "",
	    peak >= 0 && sums[peak] > 0 ?
		` · peak ${fmtRate(sums[peak] / perMin)}/min at ${t(peak)}` : "");
}

/* ---------------------------------------------------------------------
 * Totals, top codes, status, category and API breakdowns.
 */

function stats(by, w, extra = {}) {
	return getJSON("api/v1/stats", { by, from: secs(w.from),
	    to: secs(w.to), ...extra });
}

/*
 * Stats by status, category or API under the code filter.  Returns
 * {doc, filtered}: filtered false when the daemon cannot filter stats
 * by code, in which case doc counts every code.
 */
async function statsForCode(by, w) {
	if (state.code) {
		const doc = await optional("statsCode",
		    () => stats(by, w, { code: state.code }));
		if (doc !== null)
			return { doc, filtered: true };
	}
	return { doc: await stats(by, w), filtered: !state.code };
}

async function loadSummary(w) {
	const prevW = { ...w, from: w.from - w.span, to: w.from };
	const [cur, prev, byStatus, byCategory, byApi, apiAll] =
	    await Promise.all([
		stats("code", w), stats("code", prevW),
		statsForCode("status", w), statsForCode("category", w),
		statsForCode("api", w),
		/* Ratios need every code's errors, filtered or not. */
		state.code ? stats("api", w) : null,
	]);

	renderTotals(w, cur, prev, apiAll ? apiAll : byApi.doc, byApi);
	renderCodes(cur, prev);
	renderBars($("by-status"), byStatus, (key) => {
		state.status = String(key);
		return changed();
	});
	renderBars($("by-category"), byCategory, null);
	renderApis(byApi, apiAll ? apiAll : byApi.doc);
	renderFilterOptions(cur, byStatus.doc, byApi.doc);
	lastCodes = cur;
}

function countOf(doc, key) {
	const g = doc.groups.find((x) => x.key === key);
	return g ? g.count : 0;
}

function trend(cur, prev) {
	if (cur === 0 && prev === 0)
		return { text: "–", cls: "" };
	if (prev === 0)
		return { text: "new", cls: "up" };
	const r = (cur - prev) / prev;
	const arrow = r > 0 ? "▲" : r < 0 ? "▼" : "=";
	/* "+5614%" reads worse than "x57" once it is past tenfold. */
	const size = cur >= 10 * prev ? `×${fmtNum(cur / prev)}` :
	    fmtPct(Math.abs(r));
	return { text: `${arrow} ${size}`,
	    cls: r > 0.05 ? "up" : r < -0.05 ? "down" : "" };
}

/* errors / (errors + 2xx) over the APIs whose 2xx were captured. */
function errorRatio(errorsOf, apiAll) {
	let errors = 0;
	let calls = 0;
	for (const g of apiAll.groups) {
		if (!(g.responses > 0))
			continue;
		errors += errorsOf(g);
		calls += g.count + g.responses;
	}
	return calls > 0 ? { ratio: errors / calls, errors, calls } : null;
}

function renderTotals(w, cur, prev, apiAll, byApi) {
	const total = state.code ? countOf(cur, state.code) : cur.total;
	const before = state.code ? countOf(prev, state.code) : prev.total;
	const tr = trend(total, before);

	$("t-total").textContent = fmtInt(total);
	fill($("t-trend"), h("span", { class: tr.cls }, tr.text),
	    ` vs the ${fmtDuration(w.span)} before (${fmtInt(before)})`);

	caps.responses = apiAll.groups.some((g) => "responses" in g);
	const filteredApi = new Map(byApi.doc.groups.map((g) => [g.key, g]));
	const ratio = caps.responses ? errorRatio((g) => !state.code ?
	    g.count : byApi.filtered ? filteredApi.get(g.key)?.count ?? 0 :
	    NaN, apiAll) : null;
	$("t-ratio").textContent = ratio && !Number.isNaN(ratio.ratio) ?
	    fmtPct(ratio.ratio) : "–";
	$("t-ratio-sub").textContent = !caps.responses ?
	    "the API does not report 2xx counts" : ratio === null ?
	    "no 2xx responses captured in this range" :
	    Number.isNaN(ratio.ratio) ? "not filtered by code on this daemon" :
	    `${fmtInt(ratio.errors)} of ${fmtInt(ratio.calls)} calls`;

	const top = cur.groups[0];
	const shown = state.code ? cur.groups.find((g) => g.key === state.code) :
	    top;
	fill($("t-top"), shown ? codeButton(shown.key) : "–");
	$("t-top-sub").textContent = shown ?
	    `${fmtPct(shown.share)} of errors · ${categoryOf(shown.key)}` : "";
}

function categoryOf(code) {
	const rows = catalog.get(code);
	return rows ? rows[0].category : "not in the catalog";
}

function codeButton(code) {
	return h("button", { type: "button", class: "link",
	    "data-code": code, title: `Filter everything by ${code}`,
	    onclick: () => setCode(code) }, code);
}

/* Meaning and action of a code; one line per variant when it has several. */
function catalogCells(code) {
	const rows = catalog.get(code);
	if (!rows)
		return [h("td", { class: "muted" }, "Not in the catalog"),
		    h("td", { class: "muted" },
			"Look the code up in the service's error reference")];
	if (rows.length === 1)
		return [h("td", {}, rows[0].meaning), h("td", {}, rows[0].action)];
	const each = (f) => rows.map((r) => h("div", { title: r.message },
	    f(r)));
	return [h("td", {}, each((r) => r.meaning)),
	    h("td", {}, each((r) => r.action))];
}

function renderCodes(cur, prev) {
	const body = $("codes").tBodies[0];
	const groups = state.code ?
	    cur.groups.filter((g) => g.key === state.code) :
	    cur.groups.slice(0, CODES_SHOWN);

	if (groups.length === 0) {
		fill(body, h("tr", {}, h("td", { colspan: 7, class: "muted" },
		    "No errors in this range.")));
		return;
	}
	fill(body, groups.map((g) => {
		const tr = trend(g.count, countOf(prev, g.key));
		return h("tr", { "data-code": g.key },
		    h("td", {}, codeButton(g.key)),
		    h("td", { class: "num" }, fmtInt(g.count)),
		    h("td", { class: "num" }, fmtPct(g.share)),
		    h("td", { class: `num nowrap ${tr.cls}` }, tr.text),
		    h("td", {}, h("span", { class: "badge" },
			categoryOf(g.key))),
		    ...catalogCells(g.key));
	}));
}

/* A bar per group; onPick(key) when a bar's key is clicked. */
function renderBars(el, { doc, filtered }, onPick) {
	const max = Math.max(1, ...doc.groups.map((g) => g.count));
	const items = doc.groups.map((g) => [
		onPick ? h("button", { type: "button", class: "link",
		    title: "Filter the recent errors by it", "data-key": g.key,
		    onclick: () => onPick(g.key) }, String(g.key)) :
		    h("span", { "data-key": g.key }, String(g.key)),
		h("div", { class: "track" }, h("div", { class: "fill",
		    style: `width:${(100 * g.count / max).toFixed(1)}%` })),
		h("span", { class: "num" },
		    `${fmtInt(g.count)} · ${fmtPct(g.share)}`),
	]);
	fill(el, items.length ? items : h("span", { class: "muted" }, "none"));
	if (!filtered)
		el.append(h("span", { class: "muted small",
		    style: "grid-column:1/-1" },
		    "All codes: this daemon cannot filter these counts by code."));
}

function renderApis(byApi, apiAll) {
	const all = new Map(apiAll.groups.map((g) => [g.key, g]));
	const body = $("by-api").tBodies[0];

	fill(body, byApi.doc.groups.map((g) => {
		const resp = all.get(g.key)?.responses;
		const calls = (all.get(g.key)?.count ?? 0) + (resp ?? 0);
		const ratio = resp > 0 && byApi.filtered ? g.count / calls : null;
		const name = g.key === null ?
		    h("span", { class: "muted",
			title: "pb captures carry no API" }, "(unknown)") :
		    h("button", { type: "button", class: "link",
			title: "Filter the recent errors by it",
			onclick: () => {
				state.api = g.key;
				changed();
			} }, g.key);
		return h("tr", { "data-api": g.key }, h("td", {}, name),
		    h("td", { class: "num" }, fmtInt(g.count)),
		    h("td", { class: "num" }, fmtPct(g.share)),
		    h("td", { class: "num" }, resp === undefined ? "–" :
			fmtInt(resp)),
		    h("td", { class: "num" }, ratio === null ? "–" :
			fmtPct(ratio)));
	}));
	if (byApi.doc.groups.length === 0)
		fill(body, h("tr", {}, h("td", { colspan: 5, class: "muted" },
		    "No errors in this range.")));

	const note = $("api-note");
	note.hidden = caps.responses && byApi.filtered;
	note.textContent = !caps.responses ?
	    "Error ratios need the 2xx counts per API, which this daemon " +
	    "does not report yet." :
	    "Counts of every code: this daemon cannot filter them by code.";
}

/* A hint when the range is empty but the database is not. */
function renderHint(w, cur) {
	const hint = $("hint");
	const newest = health && health.newest ? parseTime(health.newest) : NaN;

	hint.hidden = true;
	if (cur.total > 0 || !health)
		return;
	if (health.records === 0) {
		fill(hint, "The database holds no records yet: ingest captures ",
		    "with ", h("code", {}, "kmswatch ingest"), ".");
	} else if (Number.isFinite(newest) && newest < w.from) {
		fill(hint, `No errors in ${rangeName(w)}. The newest record is `,
		    `from ${fmtTime(newest, state.utc)} `,
		    `(${fmtAgo(newest, Date.now())}). `,
		    h("button", { type: "button", onclick: () => {
			state.range = "custom";
			state.to = newest + 60e3;
			state.from = state.to - w.span;
			changed();
		    } }, `Show the ${fmtDuration(w.span)} up to it`));
	} else
		return;
	hint.hidden = false;
}

/* ---------------------------------------------------------------------
 * Alerts: the banner on top.
 */

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

async function loadAlerts() {
	const doc = await optional("alerts", () => getJSON("api/v1/alerts"));
	const el = $("alerts");

	if (doc === null) {
		activeAlerts = [];
		fill(el, h("div", { class: "alert unknown" },
		    "Alerts: this daemon does not serve /api/v1/alerts."));
		return;
	}
	activeAlerts = (doc.alerts || []).filter((a) =>
	    a.state === "firing" || a.state === "pending");
	activeAlerts.sort((a, b) =>
	    (a.state === "firing" ? 0 : 1) - (b.state === "firing" ? 0 : 1) ||
	    (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) ||
	    parseTime(a.started_at) - parseTime(b.started_at));

	if (activeAlerts.length === 0) {
		fill(el, h("div", { class: "alert clear", "data-alerts": "0" },
		    "No alert firing or pending."));
		return;
	}
	fill(el, activeAlerts.map(renderAlert));
}

function renderAlert(a) {
	const since = parseTime(a.started_at);
	const ratio = typeof a.value === "number" &&
	    typeof a.baseline === "number" && a.baseline > 0 ?
	    ` (×${fmtNum(a.value / a.baseline)})` : "";

	return h("div", { class: `alert ${a.severity || ""} ${a.state}`,
	    role: a.state === "firing" ? "alert" : null, "data-rule": a.rule },
	    h("span", { class: "sev" }, `${a.severity || "alert"} · ${a.state}`),
	    h("strong", {}, a.rule || ""),
	    a.code ? codeButton(a.code) : null,
	    Number.isFinite(since) ? h("span", {},
		`since ${fmtTime(since, state.utc)} `,
		h("span", { class: "muted" },
		    `(${fmtDuration(Date.now() - since)})`)) : null,
	    h("span", {}, `value ${fmtNum(a.value)} vs baseline ` +
		`${fmtNum(a.baseline)}${ratio}`),
	    a.summary ? h("span", { class: "summary" }, a.summary) : null);
}

/* ---------------------------------------------------------------------
 * Health: the header line and the "newest record" figure.
 */

async function loadHealth() {
	health = await getJSON("healthz");
	const newest = health.newest ? parseTime(health.newest) : NaN;

	$("health").textContent = `${health.status} · ` +
	    `${fmtInt(health.records)} records · ` +
	    `${fmtInt(health.rejects)} rejects`;
	$("t-newest").textContent = Number.isFinite(newest) ?
	    fmtAgo(newest, Date.now()) : "none";
	$("t-newest-sub").textContent = Number.isFinite(newest) ?
	    fmtTime(newest, state.utc) : "";
}

/* ---------------------------------------------------------------------
 * Recent errors: the filtered, paged table.
 */

async function loadTable(w) {
	const doc = await getJSON("api/v1/errors", {
		code: state.code, status: state.status, api: state.api,
		from: secs(w.from), to: secs(w.to), limit: PAGE_SIZE,
		cursor: pages.cursors[pages.at],
	});
	const body = $("recent").tBodies[0];

	pages.next = doc.next_cursor;
	fill(body, doc.items.map((r) => h("tr",
	    { "data-request-id": r.request_id },
	    h("td", { class: "nowrap" }, fmtTime(parseTime(r.time), state.utc)),
	    h("td", { class: "mono" }, h("button", { type: "button",
		class: "link", title: "Look this RequestId up",
		onclick: () => lookupText(r.request_id) }, r.request_id)),
	    h("td", { class: "num" }, r.status),
	    h("td", {}, codeButton(r.code)),
	    h("td", {}, r.api ?? h("span", { class: "muted" }, "–")),
	    h("td", {}, r.message))));
	if (doc.items.length === 0)
		fill(body, h("tr", {}, h("td", { colspan: 6, class: "muted" },
		    "No errors match.")));

	$("newer").disabled = pages.at === 0;
	$("older").disabled = !pages.next;
	$("page").textContent = `page ${pages.at + 1}`;
}

/* Filter choices: what the range holds, and the current choice always. */
function renderFilterOptions(byCode, byStatus, byApi) {
	const options = (sel, groups, current) => {
		const keys = groups.filter((g) => g.key !== null)
		    .map((g) => String(g.key));
		if (current && !keys.includes(current))
			keys.unshift(current);
		fill(sel, h("option", { value: "" }, "any"), keys.map((k) =>
		    h("option", { value: k, selected: k === current }, k)));
	};
	options($("f-code"), byCode.groups, state.code);
	options($("f-status"), byStatus.groups, state.status);
	options($("f-api"), byApi.groups, state.api);
}

async function turnPage(delta) {
	if (delta > 0 && pages.next) {
		pages.cursors[pages.at + 1] = pages.next;
		pages.at++;
	} else if (delta < 0 && pages.at > 0)
		pages.at--;
	else
		return;
	await guard($("recent").tBodies[0], () => loadTable(currentWindow()));
}

/* ---------------------------------------------------------------------
 * RequestId lookup.
 */

function lookupText(text) {
	$("lookup-text").value = text;
	$("lookup-form").scrollIntoView({ block: "nearest" });
	return lookup(text);
}

async function lookup(text) {
	const { ids, dropped } = extractRequestIds(text, LOOKUP_MAX);
	const status = $("lookup-status");
	const out = $("lookup-results");

	if (ids.length === 0) {
		status.textContent = "No RequestId found in the text.";
		fill(out);
		return;
	}
	status.textContent = `Looking up ${ids.length} id` +
	    `${ids.length > 1 ? "s" : ""}…`;
	try {
		const doc = await optional("lookup", () => postJSON(
		    "api/v1/requests/lookup", { request_ids: ids,
		    context: true }));
		const results = doc !== null ? doc.results :
		    await lookupEach(ids);
		const found = results.filter((r) => r.found).length;
		status.textContent = `${found} of ${results.length} found` +
		    (dropped > 0 ? `; ${dropped} more ids left out (at most ` +
		    `${LOOKUP_MAX} at once)` : "") + ".";
		fill(out, results.map(renderResult));
	} catch (e) {
		if (!(e instanceof ApiError))
			console.error(e);
		status.textContent = `Lookup failed: ${e.message}`;
	}
}

/*
 * The batch lookup done with the older endpoints, for a daemon that has
 * no POST api/v1/requests/lookup: one GET per id, and the context from
 * api/v1/errors.  At most 6 at a time, a browser's connections per host.
 */
async function lookupEach(ids) {
	const results = new Array(ids.length);
	let next = 0;
	const worker = async () => {
		while (next < ids.length) {
			const i = next++;
			results[i] = await lookupOne(ids[i]);
		}
	};
	await Promise.all(Array.from({ length: Math.min(6, ids.length) },
	    worker));
	return results;
}

async function lookupOne(id) {
	let record;
	try {
		record = await getJSON(
		    `api/v1/requests/${encodeURIComponent(id)}`);
	} catch (e) {
		if (e instanceof ApiError &&
		    (e.status === 404 || e.status === 400))
			return { request_id: id, found: false };
		throw e;
	}
	const t = parseTime(record.time);
	const around = await getJSON("api/v1/errors", { code: record.code,
	    api: record.api, from: secs(t - CONTEXT_MS),
	    to: secs(t + CONTEXT_MS) + 1, limit: CONTEXT_MAX + 1 });
	const context = around.items.filter((r) => r.request_id !== id)
	    .slice(0, CONTEXT_MAX);
	return { request_id: id, found: true, record, context };
}

function renderResult(r) {
	if (!r.found)
		return h("div", { class: "result missing",
		    "data-request-id": r.request_id },
		    h("h3", { class: "mono" }, `${r.request_id}: not found`),
		    h("p", { class: "muted small" }, "No stored error has this " +
			"RequestId: the call may have succeeded, not been " +
			"captured yet, or the id may be mistyped."));

	const rec = r.record;
	const t = parseTime(rec.time);
	const flags = rec.flags && (rec.flags.body_status !== null ||
	    rec.flags.catalog_status !== null) ?
	    `body StatusCode ${rec.flags.body_status ?? "–"}, catalog ` +
	    `status ${rec.flags.catalog_status ?? "–"}` : null;
	const row = (k, v) => v === null || v === undefined ? null :
	    [h("dt", {}, k), h("dd", {}, v)];

	return h("div", { class: "result", "data-request-id": r.request_id },
	    h("h3", {}, h("span", { class: "mono" }, r.request_id), " — ",
		codeButton(rec.code), ` (${rec.status})`,
		rec.api ? ` on ${rec.api}` : ""),
	    h("dl", {},
		row("time", fmtTime(t, state.utc)),
		row("status", String(rec.status)),
		row("code", `${rec.code} (${rec.category}` +
		    `${rec.known ? "" : ", not in the catalog"})`),
		row("API", rec.api ?? "unknown"),
		row("message", rec.message),
		row("meaning", rec.meaning),
		row("what to do", rec.action),
		row("source", `${rec.source} at byte ${fmtInt(rec.offset)}`),
		row("disagreement", flags)),
	    renderContext(r, rec, t));
}

function renderContext(r, rec, t) {
	const ctx = r.context || [];
	const where = rec.api ? ` on ${rec.api}` : "";
	const title = `${ctx.length}${ctx.length >= CONTEXT_MAX ? "+" : ""} ` +
	    `other ${rec.code} error${ctx.length === 1 ? "" : "s"}${where} ` +
	    "within 5 minutes of it";

	if (ctx.length === 0)
		return h("p", { class: "muted small" }, `No ${title.slice(2)}.`);
	return h("div", {},
	    h("p", { class: "small" }, title),
	    h("div", { class: "table-wrap" }, h("table", { class: "data" },
		h("tbody", {}, ctx.map((c) => {
			const dt = parseTime(c.time) - t;
			return h("tr", {},
			    h("td", { class: "nowrap" },
				fmtTime(parseTime(c.time), state.utc, true)),
			    h("td", { class: "num muted" },
				(dt >= 0 ? "+" : "−") +
				fmtDuration(Math.abs(dt))),
			    h("td", { class: "mono" }, h("button", {
				type: "button", class: "link",
				onclick: () => lookupText(c.request_id) },
				c.request_id)),
			    h("td", {}, c.message));
		})))));
}

/* ---------------------------------------------------------------------
 * Controls.
 */

function applyDisplay() {
	const root = document.documentElement;
	root.classList.toggle("large", state.large);
	if (state.theme === "auto")
		delete root.dataset.theme;
	else
		root.dataset.theme = state.theme;
}

function renderControls() {
	for (const b of document.querySelectorAll(".ranges [data-range]"))
		b.classList.toggle("active", b.dataset.range === state.range);
	$("range-label").textContent = state.range === "custom" ?
	    rangeName(currentWindow()) + (state.utc ? " UTC" : "") : "";
	$("code-chip").hidden = !state.code;
	$("code-chip-name").textContent = state.code || "";
	$("pause").setAttribute("aria-pressed", String(state.paused));
	$("pause").title = `Automatic refresh every ${state.refreshS} s`;
	$("pause").textContent = state.paused ? "Paused" : "Pause";
	$("utc").setAttribute("aria-pressed", String(state.utc));
	$("utc").textContent = state.utc ? "UTC" : "Local time";
	$("large").setAttribute("aria-pressed", String(state.large));
	$("theme").textContent = `Theme: ${state.theme}`;
}

/* What the page had to do without; empty when the daemon has it all. */
function renderCaps() {
	const missing = [];
	if (caps.alerts === false)
		missing.push("alerts");
	if (caps.backtest === false)
		missing.push("alert episodes (backtest)");
	if (caps.lookup === false)
		missing.push("batch lookup (done one id at a time)");
	if (caps.statsCode === false)
		missing.push("stats by code");
	if (caps.responses === false)
		missing.push("2xx counts per API");
	$("caps").textContent = missing.length ?
	    `This daemon lacks: ${missing.join(", ")}.` : "";
}

function openCustom() {
	const w = currentWindow();
	const form = $("custom-form");
	form.hidden = !form.hidden;
	$("custom-from").value = toLocalInput(w.from, state.utc);
	$("custom-to").value = toLocalInput(w.to, state.utc);
	for (const l of form.querySelectorAll("label"))
		l.title = state.utc ? "UTC" : "this browser's time zone";
}

function applyCustom(ev) {
	ev.preventDefault();
	const from = fromLocalInput($("custom-from").value, state.utc);
	const to = fromLocalInput($("custom-to").value, state.utc);
	if (!(from < to)) {
		$("custom-to").setCustomValidity("must be after from");
		$("custom-to").reportValidity();
		return;
	}
	$("custom-to").setCustomValidity("");
	$("custom-form").hidden = true;
	Object.assign(state, { range: "custom", from, to });
	changed();
}

function wire() {
	for (const b of document.querySelectorAll(".ranges [data-range]")) {
		if (b.dataset.range === "custom")
			b.addEventListener("click", openCustom);
		else
			b.addEventListener("click", () => {
				Object.assign(state, { range: b.dataset.range,
				    from: null, to: null });
				$("custom-form").hidden = true;
				changed();
			});
	}
	$("custom-form").addEventListener("submit", applyCustom);
	$("code-clear").addEventListener("click", () => setCode(null));
	$("pause").addEventListener("click", () => {
		state.paused = !state.paused;
		renderControls();
		if (!state.paused)
			refresh();
	});
	$("utc").addEventListener("click", () => {
		state.utc = !state.utc;
		savePrefs();
		changed();
	});
	$("large").addEventListener("click", () => {
		state.large = !state.large;
		savePrefs();
		applyDisplay();
		writeHash();
		renderControls();
		chart.restyle();
	});
	$("theme").addEventListener("click", () => {
		const order = ["auto", "dark", "light"];
		state.theme = order[(order.indexOf(state.theme) + 1) % 3];
		savePrefs();
		applyDisplay();
		renderControls();
		chart.restyle();
	});
	matchMedia("(prefers-color-scheme: dark)")
	    .addEventListener("change", () => chart.restyle());

	$("f-code").addEventListener("change", (e) => setCode(e.target.value));
	$("f-status").addEventListener("change", (e) => {
		state.status = e.target.value || null;
		changed();
	});
	$("f-api").addEventListener("change", (e) => {
		state.api = e.target.value || null;
		changed();
	});
	$("newer").addEventListener("click", () => turnPage(-1));
	$("older").addEventListener("click", () => turnPage(1));
	$("lookup-form").addEventListener("submit", (e) => {
		e.preventDefault();
		lookup($("lookup-text").value);
	});

	window.addEventListener("hashchange", () => {
		readHash();
		applyDisplay();
		chart.restyle();
		changed();
	});
	let resizing = 0;
	window.addEventListener("resize", () => {
		clearTimeout(resizing);
		resizing = setTimeout(() => chart.resize(), 150);
	});
	document.addEventListener("visibilitychange", () => {
		if (!document.hidden && !state.paused)
			refresh();
	});
	schedule();
}

/* The next automatic refresh; state.refreshS may change in between. */
let timer = 0;
function schedule() {
	clearTimeout(timer);
	timer = setTimeout(() => {
		if (!state.paused && !document.hidden)
			refresh();
		schedule();
	}, state.refreshS * 1000);
}

async function loadCatalog() {
	const doc = await getJSON("api/v1/codes");
	for (const c of doc.codes) {
		if (!catalog.has(c.code))
			catalog.set(c.code, []);
		catalog.get(c.code).push(c);
	}
}

async function main() {
	readPrefs();
	const lookupId = readHash();
	applyDisplay();
	renderControls();
	writeHash();

	chart = new ErrorChart($("chart"), $("chart-key"), {
		onCode: setCode,
		onZoom: (from, to) => {
			Object.assign(state, { range: "custom",
			    from: Math.floor(from / 60e3) * 60e3,
			    to: Math.ceil(to / 60e3) * 60e3 });
			changed();
		},
	});
	wire();

	/* The catalog fills the top codes' meanings: have it first. */
	await guard($("codes").tBodies[0], loadCatalog);
	await refresh();
	if (lookupId)
		lookupText(lookupId);
}

/* For the browser tests and for anyone at the console. */
window.kmswatch = {
	state, caps, refresh,
	get chart() { return chart; },
	get refreshes() { return refreshes; },
	get firstRenderMs() { return firstRender; },
	idle: () => running ?? Promise.resolve(),
	window: () => currentWindow(),
};

main();
