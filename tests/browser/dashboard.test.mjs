/*
 * dashboard.test.mjs - the dashboard served by `kmswatch serve`, driven in
 * Debian's chromium (headless, through playwright-core).
 *
 * The data: tests/scenarios/spike.json generated as HTTP captures with 2xx
 * exchanges, moved in time so that it ends at the current minute with the
 * planted Rejected.Disabled spike running for the last SPIKE_SHOWN_MS; so
 * the page's default "last hour" shows the spike as it happens, and an
 * alert engine sees it firing.  Every expected number comes from the
 * scenario, from gen.py's truth file, or from the JSON API the page reads.
 *
 * Covers: the chart plots the spike as /api/v1/timeseries counts it; the
 * alert banner shows what /api/v1/alerts says (skipped, saying so, when the
 * daemon has no alerts) and renders the documented alert shape; the
 * RequestId box finds the right records in pasted ticket text, with their
 * context; the code, status and API filters change totals, chart and table
 * as the API says; themes, large type and narrow screens; the automatic
 * refresh and its pause; no console errors, and no request to any host
 * but the daemon, anywhere.  It saves a screenshot of the main view
 * (KMSWATCH_SCREENSHOT, default build/browser/dashboard.png).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { REPO, generate, getJSON, ingest, launch, readTruth, rendered,
    serve, tmpdir } from "./harness.mjs";

const SCENARIO = path.join(REPO, "tests", "scenarios", "spike.json");
const SCREENSHOT = process.env.KMSWATCH_SCREENSHOT ||
    path.join(REPO, "build", "browser", "dashboard.png");
const SPIKE_SHOWN_MS = 8 * 60e3;
const MINUTE_MS = 60e3;
const PAGE_SIZE = 25;		/* app.js's rows per page */

const scenario = JSON.parse(fs.readFileSync(SCENARIO, "utf8"));
const spike = scenario.spikes[0];

let dir, daemon, browser, truth;
let data;		/* {from, to, spikeFrom} in ms: what was generated */
/* What this daemon lacks; console errors of those calls are expected. */
const missing = { alerts: false, backtest: false, statsCode: false,
    lookup: false };

const secs = (ms) => Math.floor(ms / 1000);
const iso = (ms) => new Date(ms).toISOString();
const num = (s) => Number(String(s).replace(/[^0-9.]/g, ""));

before(async () => {
	dir = tmpdir("kmswatch-browser-");
	const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
	const spikeOffset = Date.parse(spike.at) - Date.parse(scenario.start);
	data = { to: now, spikeFrom: now - SPIKE_SHOWN_MS,
	    from: now - SPIKE_SHOWN_MS - spikeOffset };

	const capture = path.join(dir, "spike.http");
	const truthFile = path.join(dir, "spike.truth");
	generate(["--scenario", SCENARIO, "--format", "http", "--with-ok",
	    "--start", String(secs(data.from)),
	    "--duration", String(secs(data.to - data.from)),
	    "--out", capture, "--truth", truthFile]);
	truth = readTruth(truthFile);
	ingest(path.join(dir, "kms.db"), [capture]);

	daemon = await serve(path.join(dir, "kms.db"));
	await probe();
	browser = await launch();
});

after(async () => {
	if (browser)
		await browser.close();
	if (daemon)
		assert.equal(await daemon.stop(), 0,
		    "kmswatch serve exit status");
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

/* Learns which optional API features this daemon has. */
async function probe() {
	const gone = (s) => s === 404 || s === 405;
	const range = { from: secs(data.from), to: secs(data.to) };

	missing.alerts = gone((await getJSON(daemon.base,
	    "/api/v1/alerts")).status);
	missing.backtest = gone((await getJSON(daemon.base,
	    "/api/v1/alerts/backtest", range)).status);
	const st = await getJSON(daemon.base, "/api/v1/stats",
	    { code: spike.code });
	missing.statsCode = st.status === 400 &&
	    /unknown parameter/.test(st.doc?.error?.message ?? "");
	const lk = await fetch(`${daemon.base}/api/v1/requests/lookup`, {
	    method: "POST", headers: { "Content-Type": "application/json" },
	    body: JSON.stringify({ request_ids: [truth[0].request_id] }) });
	missing.lookup = gone(lk.status);
}

/* "Failed to load resource" of a call this daemon is known to refuse. */
function expectedFailure(e) {
	if (!e.text.startsWith("Failed to load resource"))
		return false;
	const u = new URL(e.url, daemon.base);
	return (missing.alerts && u.pathname === "/api/v1/alerts") ||
	    (missing.backtest && u.pathname === "/api/v1/alerts/backtest") ||
	    (missing.statsCode && u.pathname === "/api/v1/stats" &&
		u.searchParams.has("code")) ||
	    (missing.lookup && u.pathname === "/api/v1/requests/lookup");
}

/* A new page at #hash that records console errors and uncaught errors. */
async function open(hash, opts = {}) {
	const page = await browser.context.newPage();
	const errors = [];
	page.on("console", (m) => {
		if (m.type() === "error")
			errors.push({ text: m.text(), url: m.location().url });
	});
	page.on("pageerror", (e) => errors.push({ text: `uncaught ${e}`,
	    url: "" }));
	/* Nothing may leave for another host: no CDN, no fonts, no beacons. */
	page.on("request", (r) => {
		if (new URL(r.url()).origin !== daemon.base)
			errors.push({ text: `request to another host`,
			    url: r.url() });
	});
	if (opts.viewport)
		await page.setViewportSize(opts.viewport);
	if (opts.colorScheme)
		await page.emulateMedia({ colorScheme: opts.colorScheme });
	if (opts.routes)
		await opts.routes(page);
	await page.goto(`${daemon.base}/#${hash}`);
	const firstRenderMs = await rendered(page);
	return { page, errors, firstRenderMs };
}

async function done(page, errors) {
	await page.close();
	assert.deepEqual(errors.filter((e) => !expectedFailure(e)), [],
	    "console errors");
}

/* Waits until the page has no refresh in flight or queued. */
function settle(page) {
	return page.evaluate(() => window.kmswatch.idle());
}

/* The whole generated span, as a custom range: it stays put while testing. */
const WHOLE = () => `from=${iso(data.from)}&to=${iso(data.to)}`;

function apiRange(w) {
	return { from: secs(w.from), to: secs(w.to) };
}

test("the chart plots the planted spike as /api/v1/timeseries counts it",
    async () => {
	const { page, errors } = await open(WHOLE());
	const w = await page.evaluate(() => window.kmswatch.window());
	const plotted = await page.evaluate((c) =>
	    window.kmswatch.chart.values(c), spike.code);
	const ts = (await getJSON(daemon.base, "/api/v1/timeseries",
	    { ...apiRange(w), step: w.step, code: spike.code })).doc;
	const inSpike = (t) => t >= data.spikeFrom && t < data.to;

	const apiPoints = ts.series[0].points.map(([t, n]) => [t * 1000, n]);
	const apiMax = Math.max(...apiPoints.filter(([t]) => inSpike(t))
	    .map(([, n]) => n));
	const apiBefore = Math.max(...apiPoints.filter(([t]) => !inSpike(t))
	    .map(([, n]) => n));
	const shown = plotted.filter(([t]) => inSpike(t)).map(([, v]) => v);
	const perMin = w.step / 60;

	/* The planted rate, and well above the steady state before it. */
	assert.ok(apiMax >= spike.rate_per_min / 2,
	    `the API's spike peak ${apiMax}/bucket is below half the ` +
	    `planted ${spike.rate_per_min}/min`);
	assert.ok(apiMax > 5 * apiBefore, "spike against steady state");
	assert.equal(Math.max(...shown), apiMax / perMin,
	    "peak of the plotted series in the spike window");
	assert.deepEqual(plotted.map(([t, v]) => [t, v * perMin]), apiPoints,
	    "every bucket of the plotted series");

	/* The code is in the key under the chart, and the peak in the totals. */
	assert.ok(await page.isVisible(
	    `#chart-key [data-code="${spike.code}"]`));
	const every = (await getJSON(daemon.base, "/api/v1/timeseries",
	    { ...apiRange(w), step: w.step })).doc;
	const sums = every.series[0].points.map((_, i) =>
	    every.series.reduce((n, x) => n + x.points[i][1], 0));
	const peak = Math.round(Math.max(...sums) / perMin);
	assert.match(await page.textContent("#t-rate-sub"),
	    new RegExp(`peak ${peak.toLocaleString("en-US")}/min`));

	/* Hovering the spike names its code; clicking it filters by it. */
	const at = await page.evaluate(([code, t0, t1]) => {
		const ch = window.kmswatch.chart;
		const box = document.getElementById("chart")
		    .getBoundingClientRect();
		const xy = (t, v) => {
			const [x, y] = ch.g.toDomCoords(t, v);
			return { x: box.left + x, y: box.top + y };
		};
		const top = ch.values(code).reduce((a, b) => b[1] > a[1] ? b : a);
		return { peak: xy(top[0] + ch.stepS * 500, top[1] / 2),
		    from: xy(t0, 0), to: xy(t1, 0) };
	}, [spike.code, data.spikeFrom - 5 * MINUTE_MS, data.to]);
	await page.mouse.move(at.peak.x, at.peak.y);
	assert.match(await page.textContent(".chart-tip .hl"),
	    new RegExp(spike.code.replace(".", "\\.")));
	await page.mouse.click(at.peak.x, at.peak.y);
	await settle(page);
	assert.equal(await page.evaluate(() => window.kmswatch.state.code),
	    spike.code, "clicking the spike filters by its code");

	/* Dragging across the chart zooms every panel to that range. */
	await page.click("#code-clear");
	await settle(page);
	await page.mouse.move(at.from.x, at.from.y - 40);
	await page.mouse.down();
	await page.mouse.move(at.to.x, at.to.y - 40, { steps: 8 });
	await page.mouse.up();
	await settle(page);
	const st = await page.evaluate(() => window.kmswatch.state);
	assert.equal(st.range, "custom");
	assert.ok(Math.abs(st.from - (data.spikeFrom - 5 * MINUTE_MS)) <=
	    2 * MINUTE_MS && Math.abs(st.to - data.to) <= 2 * MINUTE_MS,
	    `zoomed to ${iso(st.from)} – ${iso(st.to)}`);
	await done(page, errors);
});

test("the alert banner shows the alerts the daemon reports", async (t) => {
	if (missing.alerts) {
		t.skip("GET /api/v1/alerts answers 404: alerts are not wired " +
		    "into the daemon yet");
		return;
	}
	const doc = (await getJSON(daemon.base, "/api/v1/alerts")).doc;
	const active = doc.alerts.filter((a) =>
	    a.state === "firing" || a.state === "pending");
	assert.ok(active.some((a) => a.code === spike.code),
	    `the planted ${spike.code} spike (${spike.rate_per_min}/min for ` +
	    `the last ${SPIKE_SHOWN_MS / 60e3} min) raised no firing or ` +
	    `pending alert; /api/v1/alerts said ${JSON.stringify(doc)}`);

	const { page, errors } = await open("range=1h");
	const shown = await page.$$eval("#alerts .alert[data-rule]", (els) =>
	    els.map((e) => e.textContent));
	assert.equal(shown.length, active.length, "alerts in the banner");
	for (const a of active) {
		assert.ok(shown.some((s) => s.includes(a.rule) &&
		    s.toLowerCase().includes(`${a.severity} · ${a.state}`) &&
		    (!a.code || s.includes(a.code))),
		    `banner lacks ${JSON.stringify(a)}: ${shown}`);
	}
	await done(page, errors);
});

test("the alert banner renders the documented alert shape (mocked answer)",
    async () => {
	const started = data.spikeFrom + MINUTE_MS;
	const alerts = [
		{ rule: "code-rate", code: spike.code, severity: "critical",
		    state: "firing", started_at: iso(started), resolved_at: null,
		    value: 312, baseline: 2.5,
		    summary: "Rejected.Disabled at 312/min against 2.5/min" },
		{ rule: "error-ratio", code: null, severity: "warning",
		    state: "pending", started_at: iso(started + MINUTE_MS),
		    resolved_at: null, value: 0.4, baseline: 0.25,
		    summary: "Error ratio 40%" },
		{ rule: "old", code: "InternalFailure", severity: "warning",
		    state: "resolved", started_at: iso(data.from),
		    resolved_at: iso(data.from + MINUTE_MS), value: 9,
		    baseline: 1, summary: "over" },
	];
	const episodes = [{ rule: "code-rate", code: spike.code,
	    severity: "critical", started_at: iso(started), resolved_at: null,
	    peak: 346, baseline: 2.5 }];
	const { page, errors } = await open(WHOLE(), { routes: async (p) => {
		await p.route("**/api/v1/alerts", (r) =>
		    r.fulfill({ json: { alerts } }));
		await p.route("**/api/v1/alerts/backtest?*", (r) =>
		    r.fulfill({ json: { episodes } }));
	} });

	const banner = await page.$$eval("#alerts .alert[data-rule]", (els) =>
	    els.map((e) => ({ rule: e.dataset.rule, cls: e.className,
		text: e.textContent })));
	assert.deepEqual(banner.map((b) => b.rule), ["code-rate", "error-ratio"],
	    "active alerts, firing first; the resolved one left out");
	assert.match(banner[0].cls, /critical/);
	assert.match(banner[0].text, /critical · firing/i);
	assert.match(banner[0].text, /value 312 vs baseline 2\.5 \(×125\)/);
	assert.match(banner[0].text, /Rejected\.Disabled at 312\/min/);
	const since = new Date(started).toISOString().slice(0, 19)
	    .replace("T", " ");
	assert.ok(banner[0].text.includes(`since ${since}`), banner[0].text);
	assert.match(banner[1].text, /warning · pending/i);
	assert.equal(await page.evaluate(() =>
	    window.kmswatch.chart.episodes.length), 1, "episodes shaded");

	/* The code in the banner filters everything. */
	await page.click(`#alerts .alert[data-rule="code-rate"] ` +
	    `button[data-code="${spike.code}"]`);
	await settle(page);
	assert.equal(await page.evaluate(() => window.kmswatch.state.code),
	    spike.code);
	await done(page, errors);
});

test("a RequestId search finds the right records in pasted ticket text",
    async () => {
	const inSpike = truth.find((r) => r.code === spike.code &&
	    r.time_ms >= data.spikeFrom + MINUTE_MS && r.api === spike.api);
	const other = truth.find((r) => r.code !== spike.code && r.api);
	const absent = "0BADC0DE-0000-4000-8000-00000000F00D";
	const text = `Ticket 4411 (2026-12-03 09:14): Decrypt failed, ` +
	    `RequestId: ${inSpike.request_id}; the retry "${other.request_id}"` +
	    ` too.  Also tried ${absent} --ref ABCDEF12, order 2026-12-03.`;

	const { page, errors } = await open(WHOLE());
	await page.fill("#lookup-text", text);
	await page.click("#lookup-form button[type=submit]");
	await page.waitForSelector("#lookup-results .result");
	const cards = await page.$$eval("#lookup-results .result", (els) =>
	    els.map((e) => ({ id: e.dataset.requestId,
		missing: e.classList.contains("missing"),
		text: e.textContent })));

	assert.deepEqual(cards.map((c) => c.id),
	    [inSpike.request_id, other.request_id, absent],
	    "the ids picked out of the text, in order, nothing else");
	for (const [card, rec] of [[cards[0], inSpike], [cards[1], other]]) {
		assert.equal(card.missing, false);
		for (const want of [rec.code, String(rec.status), rec.api,
		    iso(rec.time_ms).slice(0, 19).replace("T", " ")])
			assert.ok(card.text.includes(want),
			    `${rec.request_id}: "${want}" not in ${card.text}`);
	}
	assert.equal(cards[2].missing, true);
	assert.match(await page.textContent("#lookup-status"), /2 of 3 found/);

	/* Context: other errors of the same code and API around it. */
	const ctx = await page.$$eval(
	    `#lookup-results .result[data-request-id="${inSpike.request_id}"]` +
	    " tbody .mono", (els) => els.map((e) => e.textContent));
	const byId = new Map(truth.map((r) => [r.request_id, r]));
	assert.ok(ctx.length > 0 && ctx.length <= 20, `context ${ctx.length}`);
	for (const id of ctx) {
		const r = byId.get(id);
		assert.ok(r && r.code === inSpike.code && r.api === inSpike.api &&
		    Math.abs(r.time_ms - inSpike.time_ms) <= 5 * MINUTE_MS &&
		    id !== inSpike.request_id, `context row ${id}`);
	}
	await done(page, errors);
});

/* The numbers and rows the page shows, to compare with the API. */
async function onPage(page) {
	return page.evaluate(() => ({
		total: document.getElementById("t-total").textContent,
		labels: window.kmswatch.chart.labels,
		ids: [...document.querySelectorAll("#recent tbody tr")]
		    .map((tr) => tr.dataset.requestId),
		hash: location.hash,
	}));
}

/* [key, count] of each bar of a bar list. */
function bars(page, sel) {
	return page.$$eval(`${sel} [data-key]`, (els) => els.map((e) => [
	    e.dataset.key, Number(e.nextElementSibling.nextElementSibling
		.textContent.split("·")[0].replace(/[^0-9]/g, ""))]));
}

async function firstPage(params) {
	const doc = (await getJSON(daemon.base, "/api/v1/errors",
	    { ...params, limit: PAGE_SIZE })).doc;
	return doc.items.map((r) => r.request_id);
}

test("filters change totals, chart and table as the API says", async () => {
	const { page, errors } = await open(WHOLE());
	await page.click("#pause");
	const w = await page.evaluate(() => window.kmswatch.window());
	const range = apiRange(w);
	const all = (await getJSON(daemon.base, "/api/v1/stats",
	    { ...range, by: "code" })).doc;

	let s = await onPage(page);
	assert.equal(num(s.total), all.total, "total, unfiltered");
	assert.ok(s.labels.length > 1, "several codes stacked");
	assert.deepEqual(s.ids, await firstPage(range), "table, unfiltered");

	/* A code other than the spike's, clicked in the top codes table. */
	const code = all.groups.find((g) => g.key !== spike.code);
	await page.click(`#codes button[data-code="${code.key}"]`);
	await settle(page);
	s = await onPage(page);
	assert.equal(num(s.total), code.count, `total of ${code.key}`);
	assert.deepEqual(s.labels, [code.key], "the chart shows the code only");
	assert.match(s.hash, new RegExp(`code=${code.key}`));
	const ts = (await getJSON(daemon.base, "/api/v1/timeseries",
	    { ...range, step: w.step, code: code.key })).doc;
	const plotted = await page.evaluate((c) =>
	    window.kmswatch.chart.values(c), code.key);
	assert.deepEqual(plotted.map(([, v]) => v * w.step / 60),
	    ts.series[0].points.map(([, n]) => n), "plotted series");
	assert.deepEqual(s.ids, await firstPage({ ...range, code: code.key }),
	    "table, by code");
	if (!missing.statsCode) {
		const byStatus = (await getJSON(daemon.base, "/api/v1/stats",
		    { ...range, by: "status", code: code.key })).doc;
		assert.deepEqual(await bars(page, "#by-status"),
		    byStatus.groups.map((g) => [String(g.key), g.count]),
		    "status breakdown of the code");
	}

	/* Status, then API, from the table's own filters: the first row's. */
	const cell = (n) => page.$eval(
	    `#recent tbody tr:first-child td:nth-child(${n})`,
	    (td) => td.textContent);
	const status = await cell(3);
	await page.selectOption("#f-status", status);
	await settle(page);
	s = await onPage(page);
	assert.deepEqual(s.ids, await firstPage({ ...range, code: code.key,
	    status }), "table, by code and status");
	assert.equal(num(s.total), code.count, "status filters the table only");

	const api = await cell(5);
	await page.selectOption("#f-api", api);
	await settle(page);
	s = await onPage(page);
	assert.deepEqual(s.ids, await firstPage({ ...range, code: code.key,
	    status, api }), "table, by code, status and API");

	/* Clearing the code brings every code back. */
	await page.click("#code-clear");
	await settle(page);
	s = await onPage(page);
	assert.equal(num(s.total), all.total, "total, code cleared");
	assert.ok(s.labels.length > 1);
	assert.deepEqual(s.ids, await firstPage({ ...range, status, api }),
	    "table, by status and API");

	/* Paging follows next_cursor. */
	await page.selectOption("#f-status", "");
	await page.selectOption("#f-api", "");
	await settle(page);
	const page1 = (await getJSON(daemon.base, "/api/v1/errors",
	    { ...range, limit: PAGE_SIZE })).doc;
	await page.click("#older");
	await page.waitForFunction(() =>
	    document.getElementById("page").textContent === "page 2");
	s = await onPage(page);
	assert.deepEqual(s.ids, await firstPage({ ...range,
	    cursor: page1.next_cursor }), "page 2");
	await done(page, errors);
});

/* app.js's percentages: one decimal under 10%. */
function pct(share) {
	const p = share * 100;
	if (p !== 0 && p < 0.1)
		return "<0.1%";
	return p.toFixed(p < 10 ? 1 : 0) + "%";
}

test("the breakdowns and the error ratio per API match /api/v1/stats",
    async (t) => {
	const { page, errors } = await open(WHOLE());
	const w = await page.evaluate(() => window.kmswatch.window());
	const get = async (by) => (await getJSON(daemon.base, "/api/v1/stats",
	    { ...apiRange(w), by })).doc;

	for (const by of ["status", "category"]) {
		assert.deepEqual(await bars(page, `#by-${by}`),
		    (await get(by)).groups.map((g) => [String(g.key), g.count]),
		    `by ${by}`);
	}
	const byApi = await get("api");
	const rows = await page.$$eval("#by-api tbody tr[data-api]", (trs) =>
	    trs.map((tr) => [tr.dataset.api, ...[...tr.cells].slice(1)
		.map((td) => td.textContent)]));
	assert.deepEqual(rows.map((r) => [r[0], Number(r[1].replace(/,/g, ""))]),
	    byApi.groups.filter((g) => g.key !== null)
		.map((g) => [g.key, g.count]), "by API");

	if (!byApi.groups.some((g) => "responses" in g)) {
		t.skip("GET /api/v1/stats?by=api has no \"responses\" per " +
		    "group yet: no error ratio to check");
	} else {
		for (const g of byApi.groups.filter((x) => x.responses > 0)) {
			const row = rows.find((r) => r[0] === g.key);
			assert.equal(row[4],
			    pct(g.count / (g.count + g.responses)),
			    `error ratio of ${g.key}`);
		}
	}
	await done(page, errors);
});

test("themes, large type and narrow screens", async () => {
	const bg = (page) => page.evaluate(() =>
	    getComputedStyle(document.body).backgroundColor);
	const dark = (c) => c.match(/\d+/g).slice(0, 3).map(Number)
	    .reduce((a, b) => a + b) < 3 * 128;

	const { page, errors } = await open("range=6h",
	    { colorScheme: "dark" });
	assert.ok(dark(await bg(page)), "follows the system's dark scheme");
	await page.click("#theme");	/* auto -> dark */
	await page.click("#theme");	/* dark -> light */
	assert.ok(!dark(await bg(page)), "light when chosen");
	await page.click("#theme");	/* back to auto */

	await page.click("#large");
	assert.equal(await page.evaluate(() =>
	    getComputedStyle(document.documentElement).fontSize), "24px");
	assert.match(await page.evaluate(() => location.hash), /large=1/);
	await page.click("#large");

	for (const width of [1280, 800, 420]) {
		await page.setViewportSize({ width, height: 900 });
		await page.waitForTimeout(250);
		const over = await page.evaluate(() =>
		    document.documentElement.scrollWidth -
		    document.documentElement.clientWidth);
		assert.ok(over <= 0, `${width} px wide: ${over} px too wide`);
	}
	await done(page, errors);

	/* A wall screen: large type from the URL, a tall chart. */
	const wall = await open("range=1h&large=1",
	    { viewport: { width: 2560, height: 1440 } });
	const chartH = await wall.page.evaluate(() =>
	    document.getElementById("chart").getBoundingClientRect().height);
	assert.ok(chartH > 500, `chart ${chartH} px tall on a wall screen`);
	await done(wall.page, wall.errors);
});

test("refreshes itself, and not when paused", async () => {
	const { page, errors } = await open("range=1h&refresh=5");
	const count = () => page.evaluate(() => window.kmswatch.refreshes);
	const n = await count();
	await page.waitForFunction((k) => window.kmswatch.refreshes > k, n,
	    { timeout: 9000 });
	await page.click("#pause");
	await settle(page);
	const paused = await count();
	await page.waitForTimeout(6000);
	assert.equal(await count(), paused, "no refresh while paused");
	await done(page, errors);
});

test("screenshot of the main view", async (t) => {
	const { page, errors, firstRenderMs } = await open("range=1h");
	fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
	await page.screenshot({ path: SCREENSHOT });
	t.diagnostic(`first full render ${Math.round(firstRenderMs)} ms; ` +
	    `screenshot ${path.relative(REPO, SCREENSHOT)}`);
	t.diagnostic(`daemon lacks: ${Object.keys(missing)
	    .filter((k) => missing[k]).join(", ") || "nothing"}`);
	await done(page, errors);
});
