-- +goose Up

-- Versions of each projection, for blue/green rebuilds (package projections, versions.go). The
-- live version's tables are the ones in public that readers query; a version being built has its
-- tables in its own schema (proj_<name>_v<N>) and its own checkpoints and consumer group, and
-- promotion swaps the tables in one transaction. A projection without a row is at version 1,
-- live (the row is made on first use).
CREATE TABLE projection_versions (
    projection  text        NOT NULL,
    version     int         NOT NULL CHECK (version > 0),
    state       text        NOT NULL CHECK (state IN ('building', 'live', 'retired', 'aborted', 'dropped')),
    schema_name text        NOT NULL, -- where its tables are now
    checkpoint  text        NOT NULL, -- its name in projection_checkpoints
    created_at  timestamptz NOT NULL DEFAULT now(),
    promoted_at timestamptz,
    retired_at  timestamptz,
    drop_after  timestamptz,
    PRIMARY KEY (projection, version)
);
CREATE UNIQUE INDEX projection_versions_live_idx ON projection_versions (projection) WHERE state = 'live';
CREATE UNIQUE INDEX projection_versions_building_idx ON projection_versions (projection) WHERE state = 'building';

-- +goose Down
DROP TABLE projection_versions;
