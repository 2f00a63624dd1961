/*
 * harness.mjs - what the browser tests and measure.mjs share: generating
 * and ingesting captures with the project's own tools, starting
 * `kmswatch serve` on a free loopback port, and launching Debian's
 * chromium through playwright-core with a fresh profile.
 *
 * Not a test file itself (node --test picks *.test.mjs only).
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "../..");
export const BINARY = process.env.KMSWATCH_BIN ||
    path.join(REPO, "build", "kmswatch");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const SERVE_START_MS = 10000;
const SERVE_STOP_MS = 5000;

/* Flags for a quiet, hermetic headless run: nothing leaves the machine. */
const CHROMIUM_ARGS = [
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
];

export function tmpdir(prefix) {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/* Runs a command to completion; throws with its stderr on failure. */
export function run(cmd, args, opts = {}) {
	return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26,
	    stdio: ["ignore", "pipe", "pipe"], ...opts });
}

/* tests/gen.py with the given arguments. */
export function generate(args) {
	return run("python3", [path.join(REPO, "tests", "gen.py"), ...args]);
}

export function ingest(db, files) {
	return run(BINARY, ["ingest", "--db", db, ...files]);
}

/* The truth file gen.py writes: the error records only. */
export function readTruth(file) {
	return fs.readFileSync(file, "utf8").split("\n").filter(Boolean)
	    .map((l) => JSON.parse(l)).filter((r) => r.request_id);
}

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/*
 * Starts `kmswatch serve` over db on a free port and waits for /healthz.
 * Returns {base, stop(), log()}; stop() sends SIGTERM and waits.
 */
export async function serve(db) {
	const port = await freePort();
	const child = spawn(BINARY, ["serve", "--db", db, "--listen",
	    `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
	let log = "";
	child.stderr.on("data", (d) => { log += d; });
	const exited = new Promise((r) => child.once("exit", r));
	const base = `http://127.0.0.1:${port}`;

	const deadline = Date.now() + SERVE_START_MS;
	for (;;) {
		if (child.exitCode !== null)
			throw new Error(`kmswatch serve exited: ${log}`);
		try {
			if ((await fetch(`${base}/healthz`)).ok)
				break;
		} catch {
			/* not listening yet */
		}
		if (Date.now() > deadline) {
			child.kill("SIGKILL");
			throw new Error(`kmswatch serve did not start: ${log}`);
		}
		await sleep(50);
	}

	return {
		base,
		log: () => log,
		async stop() {
			if (child.exitCode !== null)
				return child.exitCode;
			child.kill("SIGTERM");
			const code = await Promise.race([exited,
			    sleep(SERVE_STOP_MS).then(() => "timeout")]);
			if (code === "timeout") {
				child.kill("SIGKILL");
				throw new Error("kmswatch serve ignored SIGTERM");
			}
			return code;
		},
	};
}

/*
 * Debian's chromium under playwright-core, with a profile directory of its
 * own that close() removes.  Returns {context, close()}.
 */
export async function launch(options = {}) {
	const profile = tmpdir("kmswatch-chromium-");
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport: { width: 1440, height: 900 },
		...options,
	});
	return {
		context,
		async close() {
			await context.close();
			fs.rmSync(profile, { recursive: true, force: true });
		},
	};
}

/* GET base+path?params as JSON, with the status. */
export async function getJSON(base, p, params = {}) {
	const q = new URLSearchParams(Object.entries(params)
	    .filter(([, v]) => v !== null && v !== undefined)
	    .map(([k, v]) => [k, String(v)]));
	const s = q.toString();
	const resp = await fetch(`${base}${p}${s ? "?" + s : ""}`);
	let doc = null;
	try {
		doc = await resp.json();
	} catch {
		/* not JSON */
	}
	return { status: resp.status, doc };
}

/* Waits for the page's first full render; returns its time in ms. */
export async function rendered(page, timeout = 30000) {
	await page.waitForFunction(() =>
	    document.documentElement.dataset.rendered === "1", null,
	    { timeout });
	return page.evaluate(() => window.kmswatch.firstRenderMs);
}
