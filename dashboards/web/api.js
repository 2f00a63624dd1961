/*
 * api.js - how the dashboard talks to the daemon's JSON API.
 *
 * URLs are relative ("api/v1/..."), so the page works wherever the daemon
 * is mounted.  Every failure becomes an ApiError carrying the HTTP status
 * and the API's error code, so callers can tell "this daemon has no such
 * endpoint yet" (404, 405, or a 400 naming an unknown parameter) from a
 * real failure and degrade instead of breaking.
 */

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message);
		this.status = status;	/* 0 when the daemon was not reached */
		this.code = code;	/* the API's error code, or "" */
	}

	/* The endpoint or parameter does not exist on this daemon. */
	get unsupported() {
		return this.status === 404 || this.status === 405 ||
		    (this.status === 400 && /unknown parameter/.test(this.message));
	}
}

/* "api/v1/x?a=1&b=2", leaving out parameters that are null or "". */
export function url(path, params = {}) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v !== null && v !== undefined && v !== "")
			q.set(k, String(v));
	}
	const s = q.toString();
	return s ? `${path}?${s}` : path;
}

async function parse(resp) {
	let doc = null;
	try {
		doc = await resp.json();
	} catch {
		/* Not JSON: an HTML error page of a proxy, say. */
	}
	if (resp.ok && doc !== null)
		return doc;
	const err = doc && doc.error ? doc.error : {};
	throw new ApiError(resp.status, err.code || "",
	    err.message || `HTTP ${resp.status} from ${resp.url}`);
}

/*
 * A daemon listening beyond loopback asks for a bearer token (401).  The
 * page asks the user once and keeps the token for this tab only.
 */
const TOKEN_KEY = "kmswatch.token";

function withToken(init) {
	const token = sessionStorage.getItem(TOKEN_KEY);
	if (!token)
		return init;
	const headers = { ...(init.headers || {}),
	    Authorization: `Bearer ${token}` };
	return { ...init, headers };
}

/* One prompt for all the calls that met a 401 at once. */
let asking = null;

function askToken() {
	if (asking === null) {
		const token = window.prompt("This kmswatch asks for its API " +
		    "token:");
		if (token)
			sessionStorage.setItem(TOKEN_KEY, token.trim());
		asking = Promise.resolve(Boolean(token));
	}
	return asking;
}

async function send(path, init = {}) {
	let resp;
	try {
		resp = await fetch(path, withToken({ cache: "no-store",
		    ...init }));
		if (resp.status === 401 && await askToken())
			resp = await fetch(path, withToken({ cache: "no-store",
			    ...init }));
	} catch (e) {
		throw new ApiError(0, "", `cannot reach the daemon: ${e.message}`);
	}
	return parse(resp);
}

export function getJSON(path, params) {
	return send(url(path, params));
}

export function postJSON(path, body) {
	return send(path, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify(body),
	});
}

/*
 * What this daemon turned out to support, learnt from the first answer of
 * each optional feature: undefined (not asked yet), true or false.  Asking
 * once per page load keeps the unsupported calls to one each.
 */
export const caps = {
	alerts: undefined,	/* GET api/v1/alerts */
	backtest: undefined,	/* GET api/v1/alerts/backtest */
	lookup: undefined,	/* POST api/v1/requests/lookup */
	statsCode: undefined,	/* code= on api/v1/stats */
	responses: undefined,	/* "responses" in stats by=api groups */
};

/* The first call of each feature still unanswered, by name. */
const probes = new Map();

/*
 * Runs fn() unless caps[name] is false; on an "unsupported" answer marks
 * it false and returns null.  Other errors propagate.  While the first
 * call of a feature is out, other calls wait for its verdict, so that a
 * daemon without the feature sees one refused request, not one a panel.
 */
export async function optional(name, fn) {
	if (caps[name] === undefined && probes.has(name))
		await probes.get(name).catch(() => {});
	if (caps[name] === false)
		return null;

	const call = fn();
	if (caps[name] === undefined && !probes.has(name)) {
		probes.set(name, call);
		call.finally(() => probes.delete(name)).catch(() => {});
	}
	try {
		const v = await call;
		caps[name] = true;
		return v;
	} catch (e) {
		if (e instanceof ApiError && e.unsupported) {
			caps[name] = false;
			return null;
		}
		throw e;
	}
}
