/*
 * api_alerts.c - the alert endpoints, over the engine of alerts.c:
 *
 *	GET /api/v1/alerts[?state=&from=&to=]	stored alerts
 *	GET /api/v1/alerts/backtest?from=&to=	the episodes the rules
 *						would have produced
 *
 * The engine keeps its own database handles; the backtest replays on the
 * reader this request holds.
 */
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "api_int.h"

/* The engine, or a 404 when this daemon runs none. */
static struct alerts *
engine(struct api_req *r)
{
	struct alerts	*a = api_alerts(r->api);

	if (a == NULL)
		api_fail(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "this daemon evaluates no alert rules");
	return (a);
}

/* GET /api/v1/alerts */
int
api_alerts_get(struct api_req *r, struct store *st, const char *rest)
{
	enum alerts_filter	 f = ALERTS_ACTIVE;
	struct alerts		*a;
	const char		*state = api_arg(r, "state");
	int64_t			 from, to;
	char			*cause = NULL, q[API_QUOTE_LEN];

	(void)st;
	(void)rest;
	if ((a = engine(r)) == NULL)
		return (-1);
	if (state != NULL && state[0] != '\0' &&
	    alerts_parse_filter(state, &f) != 0)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "parameter \"state\" must be active, all, pending, firing "
		    "or resolved, got %s", api_quote(state, q)));
	if (api_arg_time(r, "from", &from) != 0 ||
	    api_arg_time(r, "to", &to) != 0)
		return (-1);
	if ((r->body = alerts_json_active(a, f, from < 0 ? 0 : from,
	    to < 0 ? INT64_MAX : to, &cause)) == NULL)
		return (api_fail_store(r, "alerts", cause));
	return (api_done(r));
}

/* GET /api/v1/alerts/backtest */
int
api_alerts_backtest(struct api_req *r, struct store *st, const char *rest)
{
	struct alerts	*a;
	int64_t		 from, to;
	char		*cause = NULL;

	(void)rest;
	if ((a = engine(r)) == NULL)
		return (-1);
	if (api_arg_time(r, "from", &from) != 0 ||
	    api_arg_time(r, "to", &to) != 0)
		return (-1);
	if (from < 0 || to < 0 || from >= to)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "parameters \"from\" and \"to\" are required, from "
		    "before to"));
	if (to - from > ALERTS_BACKTEST_SPAN_MAX_MS)
		return (api_fail(r, MHD_HTTP_BAD_REQUEST, "bad_parameter",
		    "a backtest spans at most %lld days",
		    (long long)(ALERTS_BACKTEST_SPAN_MAX_MS / 86400000)));
	if ((r->body = alerts_json_backtest(a, st, from, to, &cause)) == NULL)
		return (api_fail_store(r, "backtest", cause));
	return (api_done(r));
}
