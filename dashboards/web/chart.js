/*
 * chart.js - the stacked "errors per minute by code" chart, drawn by
 * Dygraph (Debian's libjs-dygraphs, loaded by index.html as a classic
 * script that sets window.Dygraph), with alert episodes shaded behind the
 * series and a clickable key below.
 *
 * The API counts errors per bucket of `step` seconds; the chart divides
 * by the bucket's minutes so that the y axis reads errors per minute
 * whatever the range.  Buckets are drawn as steps, since a count belongs
 * to its whole bucket, not to the instant it starts.
 */
import { fill, fmtInt, fmtRate, fmtTime, h } from "./fmt.js";

/* Codes drawn as series of their own; the rest are summed into OTHER. */
const SERIES_MAX = 8;
export const OTHER = "(other codes)";
const X_LABEL = "time";

/*
 * Colours that stay apart on light and dark backgrounds.  A code keeps
 * the colour it first got for the life of the page, so that a refresh
 * that reorders codes does not repaint them.
 */
const PALETTE = [
	"#d9423b", "#2f7ed8", "#e8a33d", "#3aa17e", "#8c5cc9",
	"#d35d9a", "#4fb3c8", "#9a7b4f", "#7d9c2f", "#5d6dd6",
	"#c7734a", "#3f8f54",
];
const OTHER_COLOUR = "#8a929c";
const colours = new Map();

export function colourOf(code) {
	if (code === OTHER)
		return OTHER_COLOUR;
	if (!colours.has(code))
		colours.set(code, PALETTE[colours.size % PALETTE.length]);
	return colours.get(code);
}

/* A custom property of the current theme, for what the canvas draws. */
function themeColour(name) {
	return getComputedStyle(document.documentElement)
	    .getPropertyValue(name).trim();
}

/* Small print in pixels: three quarters of the root size (Large grows it). */
function smallPx() {
	return Math.round(0.75 * parseFloat(
	    getComputedStyle(document.documentElement).fontSize));
}

/* How an episode is shaded: by severity, translucent over the grid. */
function episodeFill(severity) {
	if (severity === "critical")
		return "rgba(220, 50, 50, 0.16)";
	if (severity === "warning")
		return "rgba(235, 160, 40, 0.18)";
	return "rgba(120, 130, 150, 0.16)";
}

/*
 * The series to draw from a timeseries answer: the biggest codes alone,
 * the others summed.  Returns {labels, rows, totals}, rows as Dygraph
 * wants them ([Date, v1, v2, ...]), values in errors per minute.
 */
export function chartData(ts, fromMs, toMs) {
	const perMin = ts.step / 60;
	const series = [...ts.series].sort((a, b) => total(b) - total(a));
	const own = series.slice(0, series.length > SERIES_MAX ?
	    SERIES_MAX - 1 : SERIES_MAX);
	const rest = series.slice(own.length);
	const labels = own.map((s) => s.code);
	const totals = new Map(own.map((s) => [s.code, total(s)]));

	if (rest.length > 0) {
		labels.push(OTHER);
		totals.set(OTHER, rest.reduce((n, s) => n + total(s), 0));
	}

	/* The grid is the API's; every series has the same buckets. */
	const times = series.length > 0 ? series[0].points.map((p) => p[0]) :
	    bucketTimes(fromMs, toMs, ts.step);
	const rows = times.map((t, i) => {
		const row = [new Date(t * 1000)];
		for (const s of own)
			row.push(s.points[i][1] / perMin);
		if (rest.length > 0)
			row.push(rest.reduce((n, s) => n + s.points[i][1], 0) /
			    perMin);
		if (labels.length === 0)
			row.push(0);
		return row;
	});

	/* A step plot draws a bucket up to the next point: close the last one. */
	if (rows.length > 0)
		rows.push([new Date(toMs), ...rows[rows.length - 1].slice(1)]);
	return { labels: labels.length > 0 ? labels : ["errors"], rows, totals };
}

function total(s) {
	return s.points.reduce((n, p) => n + p[1], 0);
}

function bucketTimes(fromMs, toMs, step) {
	const out = [];
	for (let t = fromMs / 1000; t < toMs / 1000; t += step)
		out.push(t);
	return out;
}

export class ErrorChart {
	/*
	 * el holds the chart, keyEl the key; onCode(code) is called when a
	 * code is clicked, onZoom(fromMs, toMs) when a range is dragged.
	 */
	constructor(el, keyEl, { onCode, onZoom }) {
		this.el = el;
		this.keyEl = keyEl;
		this.onCode = onCode;
		this.onZoom = onZoom;
		this.g = null;
		this.labels = [];
		this.episodes = [];
		this.range = [0, 0];
		this.stepS = 60;
		this.utc = true;
		this.drawn = 0;		/* draws so far, for tests */

		/* The hover box: ours, not Dygraph's legend (see options). */
		this.tip = h("div", { class: "chart-tip", hidden: true });
		el.parentElement.append(this.tip);
	}

	/*
	 * Draws a timeseries answer over [fromMs, toMs) with the alert
	 * episodes ({severity, rule, code, start, end} in ms) behind it.
	 */
	render(ts, fromMs, toMs, episodes, utc) {
		const data = chartData(ts, fromMs, toMs);
		const opts = this.options(data, utc);

		this.episodes = episodes;
		this.range = [fromMs, toMs];
		this.stepS = ts.step;
		this.utc = utc;
		this.labels = data.labels;
		opts.labels = [X_LABEL, ...data.labels];
		/*
		 * One graph for the life of the page, new series and all: a
		 * destroyed Dygraph still runs the timers of its highlight fade,
		 * which then fail on its nulled fields.
		 */
		if (this.g === null)
			this.g = new window.Dygraph(this.el, data.rows, opts);
		else {
			/*
			 * A hover's selection names the old series, which the
			 * highlight's fade timers would go on drawing: drop it.
			 * (clearSelection() keeps the points while a fade runs.)
			 */
			this.g.setSelection(false, null);
			this.unhover();
			/* dateWindow null drops a zoom the user dragged. */
			this.g.updateOptions({ ...opts, file: data.rows,
			    dateWindow: null });
		}
		this.renderKey(data);
	}

	options(data, utc) {
		return {
			stackedGraph: true,
			fillGraph: true,
			fillAlpha: 0.55,
			stepPlot: true,
			strokeWidth: 1.2,
			colors: data.labels.map(colourOf),
			labelsUTC: utc,
			includeZero: true,
			ylabel: "errors / min",
			yLabelWidth: Math.round(smallPx() * 1.5),
			axisLabelWidth: 56,
			gridLineColor: themeColour("--border"),
			axisLineColor: themeColour("--border"),
			axisLabelFontSize: smallPx(),
			/*
			 * Dygraph 2.2.1's "follow" legend fails on an empty
			 * selection, which a redraw under the mouse makes; the
			 * hover box is drawn from the highlight callbacks instead.
			 */
			legend: "never",
			highlightCallback: (e, x, pts, row, name) =>
			    this.hover(e, x, pts, name),
			unhighlightCallback: () => this.unhover(),
			highlightSeriesOpts: { strokeWidth: 2.5 },
			highlightSeriesBackgroundAlpha: 0.75,
			animatedZooms: false,
			underlayCallback: (ctx, area, g) =>
			    this.shade(ctx, area, g),
			clickCallback: () => this.clicked(),
			zoomCallback: (lo, hi) => this.zoomed(lo, hi),
			drawCallback: () => { this.drawn++; },
		};
	}

	/*
	 * The theme or the type size changed: the grid's colours and the
	 * canvas's text come from them.  Resizes to the box as well.
	 */
	restyle() {
		if (this.g === null)
			return;
		this.g.updateOptions({
			gridLineColor: themeColour("--border"),
			axisLineColor: themeColour("--border"),
			axisLabelFontSize: smallPx(),
			yLabelWidth: Math.round(smallPx() * 1.5),
		});
		this.g.resize();
	}

	resize() {
		if (this.g !== null)
			this.g.resize();
	}

	clicked() {
		const s = this.g.getHighlightSeries();
		if (s && s !== OTHER && this.labels.includes(s))
			this.onCode(s);
	}

	zoomed(lo, hi) {
		/* A double click resets the zoom and calls back unzoomed. */
		if (this.g.isZoomed("x"))
			this.onZoom(Math.floor(lo), Math.ceil(hi));
	}

	/* Shades each alert episode and names it along the top. */
	shade(ctx, area, g) {
		const text = themeColour("--muted");

		ctx.save();
		ctx.font = `${smallPx()}px system-ui, sans-serif`;
		for (const ep of this.episodes) {
			const x1 = Math.max(area.x, g.toDomXCoord(ep.start));
			const x2 = Math.min(area.x + area.w,
			    g.toDomXCoord(ep.end ?? this.range[1]));
			if (!(x2 > x1))
				continue;
			ctx.fillStyle = episodeFill(ep.severity);
			ctx.fillRect(x1, area.y, Math.max(2, x2 - x1), area.h);
			ctx.fillStyle = text;
			/* Past a narrow episode's edge rather than squeezed. */
			ctx.fillText(`${ep.rule}${ep.code ? " " + ep.code : ""}`,
			    x1 + 3, area.y + smallPx() + 2);
		}
		ctx.restore();
	}

	/*
	 * The hover box beside the mouse: the bucket, and its codes biggest
	 * first, the one under the mouse in bold.
	 */
	hover(event, x, points, name) {
		const shown = points.filter((p) => p.yval > 0)
		    .sort((a, b) => b.yval - a.yval);
		const to = x + this.stepS * 1000;

		fill(this.tip, h("div", { class: "muted" },
		    `${fmtTime(x, this.utc)} – ${fmtTime(to, this.utc, true)}`),
		    shown.map((p) => h("div", { class: p.name === name ? "hl" :
			null }, h("span", { class: "swatch",
			style: `background:${colourOf(p.name)}` }),
			`${p.name}: ${fmtRate(p.yval)}/min`)),
		    shown.length === 0 ? h("div", {}, "no errors") : null);
		this.tip.hidden = false;

		/* Below right of the mouse; left of it near the right edge. */
		if (event.clientX === undefined)
			return;
		const box = this.tip.parentElement.getBoundingClientRect();
		let left = event.clientX - box.left + 16;
		if (left + this.tip.offsetWidth > box.width)
			left = event.clientX - box.left - 16 -
			    this.tip.offsetWidth;
		this.tip.style.left = `${Math.max(0, left)}px`;
		this.tip.style.top = `${event.clientY - box.top + 16}px`;
	}

	unhover() {
		this.tip.hidden = true;
	}

	/* Below the chart: each series with its total, click to filter. */
	renderKey(data) {
		fill(this.keyEl, data.labels.map((code) => {
			const n = data.totals.get(code);
			const label = h("span", {},
			    h("span", { class: "swatch",
				style: `background:${colourOf(code)}` }),
			    code, h("span", { class: "muted" },
				` ${fmtInt(n ?? 0)}`));
			if (code === OTHER || !data.totals.has(code))
				return h("span", { class: "dim" }, label);
			return h("button", { type: "button", class: "link",
			    title: `Show only ${code}`, "data-code": code,
			    onclick: () => this.onCode(code) }, label);
		}));
	}

	/*
	 * The plotted values of one code's series, as drawn: for tests and
	 * for anyone poking at the page from the console.
	 */
	values(code) {
		const col = this.labels.indexOf(code) + 1;
		if (this.g === null || col === 0)
			return [];
		const out = [];
		/* The last row only closes the step plot; it is not a bucket. */
		for (let r = 0; r < this.g.numRows() - 1; r++)
			out.push([this.g.getValue(r, 0),
			    this.g.getValue(r, col)]);
		return out;
	}
}
