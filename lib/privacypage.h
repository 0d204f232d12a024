/* privacypage: GET /privacy, the page the widget's processing notice links
 * to ("Bekijk hoe je reactie-gegevens worden verwerkt"), in Dutch, English
 * and German.
 *
 * It is written from the running configuration, so that what it says is
 * what this server does: what is kept of a comment and for how long (each
 * retention setting's value), that nothing leaves the server, what the
 * widget keeps in the reader's browser, and how to ask for a copy or the
 * erasure of one's comments (privacy_contact).  A site with a page of its
 * own sets privacy_url, and the widget links there instead.
 */
#ifndef COMMENTD_PRIVACYPAGE_H
#define COMMENTD_PRIVACYPAGE_H

#include "config.h"
#include "lang.h"

#define PRIVACYPAGE_MAX (64 * 1024)

/* The page for cfg in lang; site_url (the blog's origin, may be NULL or
 * "") names the site.  0 with *out (caller frees), or negative. */
int privacy_page(const struct config *cfg, const char *site_url, enum lang lang, char **out);

#endif
