-- R-W3, R-W4: one row per planning year, locked (and created on first use) by every command
-- that reads a year's cycle or applications and writes them back (forming groups, offers,
-- expiry, stages, quotas), so two such commands run one after the other. The row holds
-- nothing else. SQLite needs no such row: its writers are serialised by `BEGIN IMMEDIATE`.
CREATE TABLE kadry_year_locks (
    year BIGINT PRIMARY KEY
);
