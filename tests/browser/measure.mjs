/*
 * measure.mjs - the dashboard's figures: time to first full render in
 * Debian's chromium, and the size of the page's assets.
 *
 *   node tests/browser/measure.mjs --db FILE [--runs N] [--hash FRAGMENT]
 *
 * Serves FILE with build/kmswatch, loads the page N times (default 5),
 * each in a new tab, and reads the page's own performance mark
 * "kmswatch:first-render": from navigation start to the frame after every
 * panel was filled in.  It prints each run, the median, the slowest API
 * call of the median run, and the bytes of every asset the page loaded.
 * Used for the figures in the README; not a test.
 */
import { parseArgs } from "node:util";

import { launch, rendered, serve } from "./harness.mjs";

const { values: opts } = parseArgs({ options: {
	db: { type: "string" },
	runs: { type: "string", default: "5" },
	hash: { type: "string", default: "range=1h" },
} });
if (!opts.db) {
	console.error("usage: measure.mjs --db FILE [--runs N] " +
	    "[--hash FRAGMENT]");
	process.exit(2);
}

const daemon = await serve(opts.db);
const browser = await launch();
const runs = [];

try {
	for (let i = 0; i < Number(opts.runs); i++) {
		const page = await browser.context.newPage();
		await page.goto(`${daemon.base}/#${opts.hash}`);
		const ms = await rendered(page, 120000);
		const resources = await page.evaluate(() =>
		    performance.getEntriesByType("resource").map((e) => ({
			name: new URL(e.name).pathname + new URL(e.name).search,
			ms: e.duration, bytes: e.encodedBodySize })));
		runs.push({ ms, resources });
		console.log(`run ${i + 1}: first full render ` +
		    `${Math.round(ms)} ms`);
		await page.close();
	}
} finally {
	await browser.close();
	await daemon.stop();
}

const sorted = [...runs].sort((a, b) => a.ms - b.ms);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(`median first full render: ${Math.round(median.ms)} ms ` +
    `(min ${Math.round(sorted[0].ms)}, max ` +
    `${Math.round(sorted[sorted.length - 1].ms)})`);

const api = median.resources.filter((r) => !r.name.startsWith("/static/"))
    .sort((a, b) => b.ms - a.ms);
console.log("slowest API calls of the median run:");
for (const r of api.slice(0, 5))
	console.log(`  ${Math.round(r.ms)} ms  ${r.name}`);

const assets = runs[0].resources.filter((r) => r.name.startsWith("/static/"));
let total = 0;
console.log("assets (bytes as served, uncompressed):");
for (const r of assets) {
	total += r.bytes;
	console.log(`  ${String(r.bytes).padStart(8)}  ${r.name}`);
}
console.log(`  ${String(total).padStart(8)}  in all, besides the page ` +
    "itself (/)");
