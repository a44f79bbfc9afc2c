-- Storage for the embedded Confluent-compatible schema registry, and the history of each captured table's
-- schema (so events can be decoded with the schema that was current at their position).

-- One row per distinct schema text. AUTOINCREMENT so an id is never reused, even after rows are removed:
-- ids are baked into every Kafka message (Confluent wire format) and must mean the same schema forever.
CREATE TABLE registry_schemas (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  schema_type TEXT    NOT NULL CHECK (schema_type IN ('AVRO', 'JSON', 'PROTOBUF')),
  -- Canonical text (compact JSON for AVRO/JSON): the deduplication key.
  schema_text TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (schema_type, schema_text)
) STRICT;

CREATE TABLE registry_subject_versions (
  subject    TEXT    NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  schema_id  INTEGER NOT NULL REFERENCES registry_schemas (id),
  -- Soft delete, as Confluent's DELETE without ?permanent=true: hidden from lookups, number never reused.
  deleted    INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (subject, version)
) STRICT;

CREATE INDEX registry_subject_versions_by_schema ON registry_subject_versions (schema_id);

-- Compatibility level per subject; the global level is the row whose subject is '' (not a valid subject name).
CREATE TABLE registry_config (
  subject       TEXT NOT NULL PRIMARY KEY,
  compatibility TEXT NOT NULL CHECK (compatibility IN (
    'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'))
) STRICT;

CREATE TABLE table_schema_history (
  source      TEXT    NOT NULL,
  table_name  TEXT    NOT NULL,
  version     INTEGER NOT NULL CHECK (version >= 1),
  schema_json TEXT    NOT NULL,
  -- The source position from which this schema applies.
  position    TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (source, table_name, version)
) STRICT;
