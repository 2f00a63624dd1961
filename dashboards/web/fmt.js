/*
 * fmt.js - numbers, times and DOM nodes for the dashboard.
 *
 * Everything shown comes from captures, which anyone who can reach the
 * KMS endpoint can fill with text of their choosing, so nodes are built
 * with textContent (h() below) and never from HTML strings.
 */

/*
 * h("td", {class: "num", title: "..."}, "text", node, ...): an element.
 * Attributes starting with "on" become listeners; null children are
 * skipped; strings and numbers become text.
 */
export function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);

	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith("on"))
			el.addEventListener(k.slice(2), v);
		else if (k === "class")
			el.className = v;
		else if (k === "dataset")
			Object.assign(el.dataset, v);
		else if (k === "style")
			el.style.cssText = v;
		else
			el.setAttribute(k, v === true ? "" : String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else
			el.append(c instanceof Node ? c : String(c));
	}
}

/* Replaces the children of el. */
export function fill(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

const intFmt = new Intl.NumberFormat("en-US");

export function fmtInt(n) {
	return n === null || n === undefined ? "–" : intFmt.format(n);
}

/* A share in [0, 1] as a percentage, finer when small. */
export function fmtPct(share) {
	if (share === null || share === undefined || Number.isNaN(share))
		return "–";
	const p = share * 100;
	if (p !== 0 && Math.abs(p) < 0.1)
		return (p < 0 ? "-" : "") + "<0.1%";
	return p.toFixed(Math.abs(p) < 10 ? 1 : 0) + "%";
}

/* A rate such as errors per minute. */
export function fmtRate(x) {
	if (x === null || x === undefined || Number.isNaN(x))
		return "–";
	if (x === 0)
		return "0";
	return x < 10 ? x.toFixed(1) : intFmt.format(Math.round(x));
}

/* Any other number (alert values, baselines): 3 significant digits. */
export function fmtNum(x) {
	if (typeof x !== "number")
		return x === null || x === undefined ? "–" : String(x);
	if (Number.isInteger(x))
		return intFmt.format(x);
	return Math.abs(x) >= 100 ? intFmt.format(Math.round(x)) :
	    String(Number(x.toPrecision(3)));
}

const pad = (n) => String(n).padStart(2, "0");

/* The parts of a time in UTC or in the browser's zone. */
function parts(ms, utc) {
	const d = new Date(ms);
	return utc ?
	    [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(),
		d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()] :
	    [d.getFullYear(), d.getMonth() + 1, d.getDate(),
		d.getHours(), d.getMinutes(), d.getSeconds()];
}

/* "2026-12-03 11:05:09", or "11:05:09" with short. */
export function fmtTime(ms, utc, short = false) {
	const [y, mo, d, hh, mi, ss] = parts(ms, utc);
	const t = `${pad(hh)}:${pad(mi)}:${pad(ss)}`;
	return short ? t : `${y}-${pad(mo)}-${pad(d)} ${t}`;
}

/* The value of an <input type=datetime-local> for ms, to the minute. */
export function toLocalInput(ms, utc) {
	const [y, mo, d, hh, mi] = parts(ms, utc);
	return `${y}-${pad(mo)}-${pad(d)}T${pad(hh)}:${pad(mi)}`;
}

/* The inverse of toLocalInput; NaN when s is not a time. */
export function fromLocalInput(s, utc) {
	const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(s || "");
	if (!m)
		return NaN;
	const [y, mo, d, hh, mi] = m.slice(1).map(Number);
	return utc ? Date.UTC(y, mo - 1, d, hh, mi) :
	    new Date(y, mo - 1, d, hh, mi).getTime();
}

/* "45 s", "12 min", "3 h", "3 h 05 min", "2 d 4 h". */
export function fmtDuration(ms) {
	const s = Math.max(0, Math.round(ms / 1000));
	if (s < 60)
		return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60)
		return `${m} min`;
	const hrs = Math.floor(m / 60);
	if (hrs < 48)
		return m % 60 === 0 ? `${hrs} h` : `${hrs} h ${pad(m % 60)} min`;
	return hrs % 24 === 0 ? `${hrs / 24} d` :
	    `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}

export function fmtAgo(ms, now) {
	return now - ms < 5000 ? "just now" : `${fmtDuration(now - ms)} ago`;
}

/* A time of the API (RFC 3339) in ms; NaN when absent or bad. */
export function parseTime(s) {
	return s ? Date.parse(s) : NaN;
}
