-- API keys (hashed), auth attempts, system samples, datasets.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    key_hash    TEXT    NOT NULL UNIQUE,
    prefix      TEXT    NOT NULL,
    source      TEXT    NOT NULL DEFAULT 'api',
    created_at  REAL    NOT NULL,
    created_by  INTEGER REFERENCES api_keys(id),
    revoked_at  REAL,
    last_used_at REAL
);

CREATE TABLE auth_attempts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        REAL    NOT NULL,
    key_id    INTEGER,
    client    TEXT    NOT NULL,
    method    TEXT    NOT NULL,
    path      TEXT    NOT NULL,
    outcome   TEXT    NOT NULL
);
CREATE INDEX auth_attempts_ts ON auth_attempts (ts);

CREATE TABLE system_samples (
    ts      REAL PRIMARY KEY,
    sample  TEXT NOT NULL
);

CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    task        TEXT    NOT NULL CHECK (task IN ('detect', 'classify')),
    source      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    classes     TEXT    NOT NULL,
    info        TEXT    NOT NULL,
    sha256      TEXT,
    created_at  REAL    NOT NULL,
    created_by  INTEGER REFERENCES api_keys(id)
);
CREATE UNIQUE INDEX datasets_sha256 ON datasets (sha256) WHERE sha256 IS NOT NULL;
