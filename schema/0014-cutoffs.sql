-- 0014: cut-offs learned per site (lib/cutoffs.h) read a site's newest
-- decided messages with their labels on every scored comment: an index
-- that answers it without reading the ledger's token blobs.
CREATE INDEX classifier_learned_site ON classifier_learned(site, learned, label);
