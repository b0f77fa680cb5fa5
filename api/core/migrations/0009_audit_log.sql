-- Every write request of an authenticated key: who (key, X-On-Behalf-Of, address), what (action, target) and how
-- it ended. A successful change's row is written in the transaction of the change itself (api/audit/trail.py).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    key_id INTEGER,
    on_behalf_of TEXT,
    client TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    status INTEGER
);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_key ON audit_log (key_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
