-- wirewatch archive, schema 1 (SQLite + FTS5).
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    url TEXT,
    feed TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published REAL NOT NULL,
    published_at TEXT,
    doc BLOB NOT NULL
);
CREATE INDEX articles_published ON articles (published);
CREATE INDEX articles_feed ON articles (feed, published);
-- actor:/kind:/modality: facts, with the published time so a filter plus a time range is one index range.
CREATE TABLE article_tags (
    tag TEXT NOT NULL,
    published REAL NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (tag, published, article_id)
) WITHOUT ROWID;
CREATE INDEX article_tags_article ON article_tags (article_id);
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, text, content='articles', content_rowid='rowid', tokenize='porter unicode61'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
    INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    actor_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    modality TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    alert_count INTEGER NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX incidents_last_seen ON incidents (last_seen);
CREATE INDEX incidents_actor ON incidents (actor_key, last_seen);
CREATE INDEX incidents_kind ON incidents (kind, last_seen);
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    detected REAL NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX alerts_incident ON alerts (incident_id, detected);
