-- Why a comment got its status: a JSON array of reason codes with their
-- parameters, written by the submission pipeline (lib/submit.c) when it
-- decides, and shown to moderators.
ALTER TABLE comments ADD COLUMN reasons TEXT;
