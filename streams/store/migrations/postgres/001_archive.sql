-- wirewatch archive, schema 1 (PostgreSQL: generated tsvector + GIN).
CREATE TABLE articles (
    id text PRIMARY KEY,
    -- Archive order (kept by an update, like SQLite's rowid): relevance ranks the newest-archived matches.
    seq bigint GENERATED ALWAYS AS IDENTITY,
    url text,
    feed text NOT NULL,
    title text NOT NULL,
    text text NOT NULL,
    published double precision NOT NULL,
    published_at text,
    doc jsonb NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', text), 'B')
    ) STORED
);
CREATE INDEX articles_tsv ON articles USING gin (tsv);
CREATE INDEX articles_published ON articles (published);
CREATE INDEX articles_seq ON articles (seq);
CREATE INDEX articles_feed ON articles (feed, published);
CREATE TABLE article_tags (
    tag text NOT NULL,
    published double precision NOT NULL,
    article_id text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, published, article_id)
);
CREATE INDEX article_tags_article ON article_tags (article_id);
CREATE TABLE incidents (
    id text PRIMARY KEY,
    actor_key text NOT NULL,
    kind text NOT NULL,
    modality text NOT NULL,
    first_seen double precision NOT NULL,
    last_seen double precision NOT NULL,
    alert_count integer NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX incidents_last_seen ON incidents (last_seen);
CREATE INDEX incidents_actor ON incidents (actor_key, last_seen);
CREATE INDEX incidents_kind ON incidents (kind, last_seen);
CREATE TABLE alerts (
    id text PRIMARY KEY,
    incident_id text NOT NULL,
    article_id text NOT NULL,
    detected double precision NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX alerts_incident ON alerts (incident_id, detected);
