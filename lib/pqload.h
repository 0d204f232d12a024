/* pqload: libpq, loaded (dlopen) when a PostgreSQL store is opened.
 *
 * libpq brings OpenSSL, Kerberos and LDAP libraries with it: linked, they
 * would be mapped into every daemon, also one on SQLite (the notification
 * test checks that no TLS library is), and cost resident memory.  So
 * lib/store_pg.c reaches libpq through this table, filled on first use; the
 * headers are libpq's own (libpq-dev), the library is libpq.so.5.  Being
 * loaded, not linked, it is not found by dpkg-shlibdeps: debian/control
 * names libpq5 (Suggests: only a PostgreSQL set-up needs it).
 */
#ifndef COMMENTD_PQLOAD_H
#define COMMENTD_PQLOAD_H

#include <libpq-fe.h>

/* Each member has its libpq function's name and type. */
struct pq_api {
	__typeof__(PQclear) *PQclear;
	__typeof__(PQcmdStatus) *PQcmdStatus;
	__typeof__(PQcmdTuples) *PQcmdTuples;
	__typeof__(PQconnectdbParams) *PQconnectdbParams;
	__typeof__(PQdescribePrepared) *PQdescribePrepared;
	__typeof__(PQerrorMessage) *PQerrorMessage;
	__typeof__(PQexec) *PQexec;
	__typeof__(PQexecParams) *PQexecParams;
	__typeof__(PQexecPrepared) *PQexecPrepared;
	__typeof__(PQfinish) *PQfinish;
	__typeof__(PQfname) *PQfname;
	__typeof__(PQftype) *PQftype;
	__typeof__(PQgetisnull) *PQgetisnull;
	__typeof__(PQgetlength) *PQgetlength;
	__typeof__(PQgetResult) *PQgetResult;
	__typeof__(PQgetvalue) *PQgetvalue;
	__typeof__(PQnfields) *PQnfields;
	__typeof__(PQntuples) *PQntuples;
	__typeof__(PQprepare) *PQprepare;
	__typeof__(PQresultErrorField) *PQresultErrorField;
	__typeof__(PQresultErrorMessage) *PQresultErrorMessage;
	__typeof__(PQresultStatus) *PQresultStatus;
	__typeof__(PQsendQueryPrepared) *PQsendQueryPrepared;
	__typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
	__typeof__(PQsetSingleRowMode) *PQsetSingleRowMode;
	__typeof__(PQsocket) *PQsocket;
	__typeof__(PQstatus) *PQstatus;
	__typeof__(PQtransactionStatus) *PQtransactionStatus;
};

/* libpq's functions, loading libpq.so.5 at the first call (thread-safe).
 * NULL when it cannot be loaded or lacks a function (logged once). */
const struct pq_api *pqload(void);

#endif
