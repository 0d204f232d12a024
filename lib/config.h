/* config: commentd's settings, one typed table (see docs/configuration.md).
 *
 * A config starts from the built-in defaults; config_load_file() and
 * config_set() (used for command-line flags) overwrite single settings, each
 * checked against its type and bounds.  config_check() validates the whole.
 *
 * Sites: one daemon serves several blogs.  A [site ID] section of the file
 * holds one site: its origins and its own values of the settings the table
 * marks per-site.  The sites are the sections, in file order, preceded by
 * the implicit site "default" (origins from the top-level site_origins) when
 * there is no section or site_origins is set.  A site's view
 * (config_site_view) is a whole config: the top-level settings with the
 * site's own values over them, which is what code that decides for one site
 * reads.  A file without sections is one site, "default", exactly as before.
 */
#ifndef COMMENTD_CONFIG_H
#define COMMENTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_FILE	      (256 * 1024)
#define CONFIG_MAX_VALUE      4096
#define CONFIG_ERR_MAX	      256
#define CONFIG_SITE_ID_MAX    64  /* bytes of a site id */
#define CONFIG_SITES_MAX      256 /* [site ID] sections in one file */
#define CONFIG_DEFAULT_SITE   "default"
#define CONFIG_PUBLIC_URL_MAX 300 /* bytes of public_url */

enum moderation_mode {
	MODERATION_NONE,
	MODERATION_FIRST,
	MODERATION_ALL,
};

/* The site's language: mails and the pages behind their links. */
enum config_language {
	LANGUAGE_EN,
	LANGUAGE_NL,
	LANGUAGE_DE,
};

enum erase_mode {
	ERASE_DELETE,
	ERASE_ANONYMISE,
};

struct config {
	char *listen;			 /* "ADDR:PORT" */
	char *db;			 /* SQLite file */
	char *key;			 /* master key file */
	char *site_origins;		 /* space/comma separated "https://host[:port]" */
	char *trusted_proxies;		 /* space/comma separated addresses or CIDR */
	char *log_level;		 /* err|warn|info|debug */
	unsigned max_depth;		 /* reply nesting levels, top level = 1 */
	unsigned max_body;		 /* request body cap, bytes */
	unsigned max_text;		 /* comment text, characters */
	unsigned max_author;		 /* author name, characters */
	unsigned max_url;		 /* author URL, bytes */
	unsigned rate_limit;		 /* comment POSTs per client per minute */
	unsigned rate_burst;		 /* POSTs allowed in a burst */
	unsigned threads;		 /* HTTP worker threads */
	unsigned connections;		 /* simultaneous connections */
	unsigned connections_per_client; /* of them, from one client (address or /64) */
	unsigned timeout;		 /* idle connection timeout, seconds */
	unsigned header_timeout;	 /* deadline for a request's headers, seconds */
	unsigned request_timeout;	 /* deadline for a request's body, seconds */
	unsigned page_max;		 /* largest accepted ?limit= */
	unsigned page_default;		 /* top-level comments on a page without ?limit= */
	unsigned page_rows;		 /* comments (replies included) on one page */
	enum moderation_mode moderation;
	unsigned max_links;	  /* more links than this: held */
	char *blocklist_words;	  /* words that send a comment to spam */
	char *blocklist_domains;  /* link/URL/e-mail domains that send it to spam */
	char *blocklist_networks; /* client networks (CIDR) that send it to spam */
	char *allowlist_emails;	  /* e-mail hashes (hex) that skip the queue */
	unsigned edit_window;	  /* seconds an author may edit or delete */
	char *honeypot_field;	  /* hidden form field that only bots fill */
	double ham_cutoff;	  /* classifier score below: ham */
	double spam_cutoff;	  /* at or above: spam */
	double discard_cutoff;	  /* at or above: discarded */
	unsigned min_learned;	  /* cold start: messages of each class first */
	int learn_cutoffs;	  /* 1: cut-offs learned per site (lib/cutoffs.h), 0: off */
	int starter_model;	  /* 1: the shipped starter model is on, 0: off */
	unsigned spam_retention_days;
	unsigned ip_retention_days;
	unsigned token_prune_days;
	unsigned maintenance_interval; /* seconds between maintenance runs */
	unsigned search_index_from;    /* the daemon indexes for the admin search from this id */
	unsigned compact_hour;	       /* PostgreSQL: local hour of the compaction (store.h) */
	enum erase_mode erase;
	char *backup_dir;     /* daily backups go here; empty = off */
	unsigned backup_keep; /* daily backups kept in backup_dir */

	/* A post sent sooner than this after the widget loaded the thread is
	 * held (reason too_fast); 0: off. */
	unsigned min_submit_seconds;
	/* Notifications (docs/notifications.md).  smtp_url, smtp_credential and
	 * notify_retry_seconds are the daemon's; the others are per site, read
	 * from each site's view through struct outbox_site (lib/outbox.h). */
	char *public_url;		 /* where readers reach commentd, for links */
	enum config_language language;	 /* mails and link pages */
	char *smtp_url;			 /* smtp://host[:port] or smtps://; empty: no mail */
	char *smtp_from;		 /* From: of every mail */
	char *smtp_credential;		 /* file (or systemd credential) with the password */
	char *notify_moderators;	 /* addresses told of held comments */
	unsigned notify_digest_minutes;	 /* 0: one mail per held comment */
	unsigned notify_retention_days;	 /* subscriptions end after this */
	unsigned notify_retry_seconds;	 /* first retry delay; doubles each time */
	char *webhook_url;		 /* events POSTed here as JSON; empty: none */
	char *webhook_secret;		 /* HMAC-SHA256 key of the signature header */
	int likes;			 /* 1: readers may like comments, 0: off */
	unsigned like_rate_limit;	 /* likes per client per minute */
	char *privacy_url;		 /* the site's own privacy page, or "" */
	char *privacy_contact;		 /* whom to ask for export or erasure, or "" */
	struct config_section *sections; /* [site ID] sections (config.c) */
	size_t n_sections;
};

/* Allocates a config holding the defaults.  0 or -ENOMEM. */
int config_new(struct config **out);

/* Frees the config and its strings.  NULL-safe; returns NULL. */
struct config *config_free(struct config *c);

/* Sets one setting from its text form.  Returns 0, or 1 with a sentence in
 * err (CONFIG_ERR_MAX bytes) for an unknown name or a bad value; negative on
 * OOM. */
int config_set(struct config *c, const char *name, const char *value, char *err);

/* Reads "name = value" lines ('#' starts a comment) from path; a line
 * "[site ID]" starts a site's section, which runs to the next section or the
 * end, and takes "origins = ..." and the per-site settings.  Returns 0, or
 * 1 with "path:line: reason" in err; negative on I/O failure (err says). */
int config_load_file(struct config *c, const char *path, char *err);

/* Parses a whole configuration text of len bytes (for the fuzzer and the file
 * loader); origin names it in messages. */
int config_load_text(struct config *c, const char *text, size_t len, const char *origin, char *err);

/* Checks cross-setting rules (listen address syntax, origins, proxies),
 * for the top level and every site's view, and that no origin belongs to
 * two sites.  0 or 1 with err (a site's error names its section's
 * "FILE:LINE: [site ID]"). */
int config_check(const struct config *c, char *err);

/* The name of a language ("en", "nl", "de"). */
const char *config_language_name(enum config_language l);

/* The number of sites (at least 1), and the id of site i (< count). */
size_t config_site_count(const struct config *c);
const char *config_site_id(const struct config *c, size_t i);

/* The index of the site called id, or -1. */
int config_site_find(const struct config *c, const char *id);

/* True when the file has [site ID] sections: a request must then show
 * which site it is for (docs/configuration.md). */
bool config_has_sections(const struct config *c);

/* Site i's view: a new config (caller frees) holding the top-level settings
 * with the site's own values over them; site_origins holds the site's
 * origins (a section's own, never inherited from the top level).  0, 1 with
 * err when the view breaks a cross-setting rule, or negative on OOM. */
int config_site_view(const struct config *c, size_t i, struct config **out, char *err);

/* True for a well-formed site id: 1 to CONFIG_SITE_ID_MAX characters of
 * a-z, 0-9, '.', '_' and '-', starting with a letter or digit. */
bool config_site_id_valid(const char *id);

/* True if setting name may be given in a [site ID] section. */
bool config_setting_per_site(const char *name);

/* Where site i's section starts ("FILE:LINE"), or NULL for the implicit
 * default site. */
const char *config_site_where(const struct config *c, size_t i);

/* Calls fn for site i's own settings in file order (site_origins under its
 * section name "origins"); nothing for the implicit default site. */
void config_site_each(const struct config *c, size_t i,
		      void (*fn)(const char *name, const char *value, void *u), void *u);

/* The name of a moderation mode. */
const char *config_moderation_name(enum moderation_mode m);

/* Calls fn for each setting with its name and current value as text
 * (for `commentd -n` and the docs test). */
void config_each(const struct config *c, void (*fn)(const char *name, const char *value, void *u),
		 void *u);

#endif
