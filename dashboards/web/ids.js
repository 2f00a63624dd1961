/*
 * ids.js - picks RequestIds out of pasted text (a ticket line, a log
 * excerpt, a list), so that the lookup box takes whatever the on-call
 * engineer has in the clipboard.
 *
 * Two kinds of token count as ids:
 *  - a UUID (8-4-4-4-12 hex digits, any case), also inside a longer token
 *    such as "req-5B98E36A-...";
 *  - any other token of 8 or more characters of [A-Za-z0-9-] that is
 *    upper-case hex with at least one dash and one letter, the shape of
 *    the service's other ids.  The letter rule keeps dates such as
 *    "2026-12-03" out, the dash rule plain numbers and hex words.
 */

const HEX = "[0-9A-Fa-f]";
const UUID = new RegExp(`${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}`,
    "g");

function hexWithDashes(token) {
	return token.length >= 8 && /^[0-9A-F-]+$/.test(token) &&
	    token.includes("-") && /[A-F]/.test(token);
}

/*
 * Returns {ids, dropped}: the distinct ids in the order they appear, at
 * most max of them, and how many more there were.
 */
export function extractRequestIds(text, max = 50) {
	const seen = new Set();
	const ids = [];
	let dropped = 0;

	const add = (id) => {
		if (seen.has(id))
			return;
		seen.add(id);
		if (ids.length < max)
			ids.push(id);
		else
			dropped++;
	};

	for (const token of String(text).match(/[A-Za-z0-9-]+/g) || []) {
		const uuids = token.match(UUID);
		if (uuids) {
			uuids.forEach(add);
			continue;
		}
		/* Dashes that only frame a token ("--ABC-12--") are not in it. */
		const bare = token.replace(/^-+|-+$/g, "");
		if (hexWithDashes(bare))
			add(bare);
	}
	return { ids, dropped };
}
