#include "likes.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

void likes_voter(const struct keys *k, const struct net_addr *client, int64_t id,
		 unsigned char out[KEYS_HASH_BYTES])
{
	/* family, the client's network (net_client_network), comment id */
	unsigned char buf[1 + 16 + 8];
	struct net_addr net;
	uint64_t v = (uint64_t)id;

	net_client_network(client, &net);
	memset(buf, 0, sizeof(buf));
	buf[0] = net.family == AF_INET6 ? 6 : 4;
	memcpy(buf + 1, net.bytes, 16);
	for (int i = 0; i < 8; i++)
		buf[17 + i] = (unsigned char)(v >> (8 * i));
	keys_hash(k, KEYS_LIKE, buf, sizeof(buf), out);
}

static const char sql_target[] =
    "SELECT EXISTS (SELECT 1 FROM comments c JOIN threads t ON t.id = c.thread_id"
    " WHERE c.id = ?1 AND c.status = 'published' AND t.site = ?2)";
static const char sql_unlike[] = "DELETE FROM likes WHERE comment_id = ?1 AND voter = ?2";
static const char sql_like[] = "INSERT INTO likes(comment_id, voter, created) VALUES (?1, ?2, ?3)";
static const char sql_count[] = "SELECT likes FROM comments WHERE id = ?1";

struct toggle_job {
	const char *site;
	int64_t id, now;
	const unsigned char *voter;
	struct likes_result *out;
	struct comment_error *err;
	int result; /* toggle_rows's own result */
};

static int run_bound(struct store_conn *c, const char *sql, const struct toggle_job *job,
		     const char *what)
{
	struct store_stmt *st = store_stmt(c, sql);

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, job->id);
	store_bind_blob(st, 2, job->voter, KEYS_HASH_BYTES);
	if (sql == sql_like)
		store_bind_int64(st, 3, job->now);
	return comment_store_result(store_run(c, st, what), job->err);
}

static int read_one(struct store_conn *c, const char *sql, int64_t id, const char *site,
		    int64_t *out)
{
	struct store_stmt *st = store_stmt(c, sql);
	int r;

	if (!st)
		return -EIO;
	store_bind_int64(st, 1, id);
	if (site)
		store_bind_text(st, 2, site);
	r = store_one_int64(c, st, out);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

static int toggle_row(struct store_conn *c, struct toggle_job *job)
{
	int64_t published = 0;
	int r;

	r = read_one(c, sql_target, job->id, job->site, &published);
	if (r)
		return r;
	if (!published)
		return comment_fail(job->err, 404, "not_found", "There is no such comment.");
	r = run_bound(c, sql_unlike, job, "unlike");
	if (r)
		return r;
	job->out->liked = store_changes(c) == 0;
	if (job->out->liked) {
		r = run_bound(c, sql_like, job, "like");
		if (r)
			return r;
	}
	return read_one(c, sql_count, job->id, NULL, &job->out->likes);
}

static int toggle_rows(struct store_conn *c, void *arg)
{
	struct toggle_job *job = arg;

	job->result = toggle_row(c, job);
	return job->result;
}

int likes_toggle(struct store_conn *c, const struct config *cfg, const char *site, int64_t id,
		 const unsigned char voter[KEYS_HASH_BYTES], int64_t now, struct likes_result *out,
		 struct comment_error *err)
{
	struct toggle_job job = {
	    .site = site, .id = id, .now = now, .voter = voter, .out = out, .err = err};
	int r;

	memset(out, 0, sizeof(*out));
	if (!cfg->likes)
		return comment_fail(err, 403, "likes_disabled", "This site does not take likes.");
	r = store_group_write(c, toggle_rows, &job);
	if (r != 0 && r != job.result)
		r = comment_store_result(r, err); /* the batch's BEGIN or COMMIT failed */
	if (r == 0)
		out->id = id;
	return r;
}

json_t *likes_json(const struct likes_result *r)
{
	return json_pack("{s:I, s:I, s:b}", "id", (json_int_t)r->id, "likes", (json_int_t)r->likes,
			 "liked", r->liked);
}
