-- Where each source is, and how far each table's initial snapshot got.
-- Positions are opaque strings the source serializes (an LSN, a binlog file/offset or GTID set); the store
-- never interprets them.

CREATE TABLE source_positions (
  source             TEXT    NOT NULL PRIMARY KEY,
  -- The position up to which every event reached Kafka: where to resume after a restart.
  position           TEXT    NOT NULL,
  updated_at         INTEGER NOT NULL,  -- ms since epoch
  -- The position last acknowledged to the source database (PostgreSQL confirmed_flush_lsn); lags `position`.
  confirmed_position TEXT,
  confirmed_at       INTEGER
) STRICT;

CREATE TABLE snapshot_progress (
  source      TEXT    NOT NULL,
  table_name  TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('running', 'done')),
  -- JSON of the primary key of the last row emitted; the snapshot resumes after it.
  last_key    TEXT,
  rows        INTEGER NOT NULL CHECK (rows >= 0),
  -- The consistent point the snapshot reads at; streaming starts from it.
  position    TEXT,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (source, table_name)
) STRICT;
