#include "timefmt.h"

#include <time.h>

const char *timefmt_rfc3339(int64_t t, char out[TIMEFMT_RFC3339])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, TIMEFMT_RFC3339, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
	return out;
}
