#include "pqload.h"

#include "log.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

static struct pq_api api;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Resolves name into *slot; false when missing. */
static bool sym(void *lib, const char *name, void *slot)
{
	void *p = dlsym(lib, name);

	if (!p)
		return false;
	/* POSIX: a function pointer and a data pointer have the same form. */
	*(void **)slot = p;
	return true;
}

static void load(void)
{
	const struct {
		const char *name;
		void *slot;
	} syms[] = {
	    {"PQclear", &api.PQclear},
	    {"PQcmdStatus", &api.PQcmdStatus},
	    {"PQcmdTuples", &api.PQcmdTuples},
	    {"PQconnectdbParams", &api.PQconnectdbParams},
	    {"PQdescribePrepared", &api.PQdescribePrepared},
	    {"PQerrorMessage", &api.PQerrorMessage},
	    {"PQexec", &api.PQexec},
	    {"PQexecParams", &api.PQexecParams},
	    {"PQexecPrepared", &api.PQexecPrepared},
	    {"PQfinish", &api.PQfinish},
	    {"PQfname", &api.PQfname},
	    {"PQftype", &api.PQftype},
	    {"PQgetisnull", &api.PQgetisnull},
	    {"PQgetlength", &api.PQgetlength},
	    {"PQgetResult", &api.PQgetResult},
	    {"PQgetvalue", &api.PQgetvalue},
	    {"PQnfields", &api.PQnfields},
	    {"PQntuples", &api.PQntuples},
	    {"PQprepare", &api.PQprepare},
	    {"PQresultErrorField", &api.PQresultErrorField},
	    {"PQresultErrorMessage", &api.PQresultErrorMessage},
	    {"PQresultStatus", &api.PQresultStatus},
	    {"PQsendQueryPrepared", &api.PQsendQueryPrepared},
	    {"PQsetNoticeProcessor", &api.PQsetNoticeProcessor},
	    {"PQsetSingleRowMode", &api.PQsetSingleRowMode},
	    {"PQsocket", &api.PQsocket},
	    {"PQstatus", &api.PQstatus},
	    {"PQtransactionStatus", &api.PQtransactionStatus},
	};
	void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		log_err("store: cannot load libpq (%s): install libpq5 for a PostgreSQL database",
			dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (!sym(lib, syms[i].name, syms[i].slot)) {
			log_err("store: the libpq found lacks %s", syms[i].name);
			return;
		}
	}
	loaded = true;
}

const struct pq_api *pqload(void)
{
	pthread_once(&once, load);
	return loaded ? &api : NULL;
}
