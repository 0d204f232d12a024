/* routes_akismet: the Akismet-compatible endpoints (filled in by issue 5). */
#include "server.h"

const struct route akismet_routes[] = {
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, false},
};
const size_t akismet_routes_count = 0;
