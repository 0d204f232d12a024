-- Test fixture for commentd: an Isso database.  The CREATE TABLE statements
-- are the ones Isso's own code issues (isso/db/threads.py, comments.py,
-- preferences.py); the rows are made up.  Modes: 1 accepted, 2 waiting for
-- moderation, 4 deleted (kept because a reply hangs below it).
CREATE TABLE IF NOT EXISTS preferences (    key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS threads (    id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE IF NOT EXISTS comments (    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,    text VARCHAR NOT NULL, author VARCHAR, email VARCHAR, website VARCHAR,    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,    notification INTEGER DEFAULT 0);
CREATE TRIGGER IF NOT EXISTS remove_stale_threads AFTER DELETE ON comments BEGIN     DELETE FROM threads WHERE id NOT IN (SELECT tid FROM comments); END;
INSERT INTO preferences VALUES ('session-key', '5f1a0c3e9b7d2a4c');
INSERT INTO threads VALUES (1, '/2019/03/door-de-regen-naar-ronse/', 'Door de regen naar Ronse');
INSERT INTO threads VALUES (2, '/over-ons/', 'Over ons');
INSERT INTO comments VALUES (1, 1, NULL, 1552564800.25, NULL, 1, '192.0.2.0', 'Mooi geschreven, *echt* waar. Zie [mijn route](https://example.nl/route).', 'Hanneke', 'hanneke@example.nl', 'https://hanneke.example.nl', 3, 0, x'00', 0);
INSERT INTO comments VALUES (1, 2, 1, 1552568400.0, NULL, 1, '198.51.100.0', 'Dank je, Hanneke!', 'Marieke', NULL, NULL, 0, 0, x'00', 0);
INSERT INTO comments VALUES (1, 3, NULL, 1552572000.5, 1552575600.0, 4, '203.0.113.0', '', NULL, NULL, NULL, 0, 0, x'00', 0);
INSERT INTO comments VALUES (1, 4, 3, 1552579200.0, NULL, 1, '192.0.2.0', 'Ik snap niet waarom die reactie weg is.', NULL, NULL, NULL, 0, 0, x'00', 0);
INSERT INTO comments VALUES (2, 5, NULL, 1514880000.0, NULL, 2, '192.0.2.0', 'Wacht op goedkeuring.', 'Nieuw', 'nieuw@example.org', NULL, 0, 0, x'00', 1);
INSERT INTO comments VALUES (2, 6, 99, 1514883600.0, NULL, 1, '192.0.2.0', 'Reactie op iets dat er niet meer is.', 'Wees', NULL, NULL, 0, 0, x'00', 0);
