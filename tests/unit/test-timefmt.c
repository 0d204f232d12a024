/* Unit tests for lib/timefmt. */
#include "tap.h"

#include "timefmt.h"

int main(void)
{
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {1700000000, "2023-11-14T22:13:20Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	    {1798761599, "2026-12-31T23:59:59Z"},
	    {4102444799LL, "2099-12-31T23:59:59Z"},
	    {-1, "1969-12-31T23:59:59Z"},
	};
	char out[TIMEFMT_RFC3339];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_str(timefmt_rfc3339(cases[i].t, out), cases[i].want, "%lld is %s",
		       (long long)cases[i].t, cases[i].want);
		is_int(strlen(out), TIMEFMT_RFC3339 - 1, "%lld: exactly 20 characters",
		       (long long)cases[i].t);
	}
	/* A year past 9999 does not fit: the answer is empty, never cut off. */
	is_str(timefmt_rfc3339(253402300800LL, out), "", "year 10000: empty, not truncated");
	return done_testing();
}
