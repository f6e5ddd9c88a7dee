-- Suspect search (issue 13): a track's appearance, stored beside its
-- summary. The masks (bits in the order of search.Colours and
-- search.Carried) and the int8 embedding are what the search index loads;
-- attrs keeps the named colours in their order (most present first).

-- +goose Up
CREATE TABLE track_appearance (
    track        INTEGER PRIMARY KEY REFERENCES tracks (id) ON DELETE CASCADE,
    upper_mask   INTEGER NOT NULL,
    lower_mask   INTEGER NOT NULL,
    colour_mask  INTEGER NOT NULL,
    carried_mask INTEGER NOT NULL,
    heading      INTEGER NOT NULL, -- index in search.Headings, -1 unknown
    height_m     REAL NOT NULL,    -- 0 unknown
    attrs        TEXT NOT NULL,    -- search.Appearance as JSON
    embedding    BLOB,             -- int8, L2-normalised ×127
    thumb        BLOB              -- JPEG of the best crop
);

-- +goose Down
DROP TABLE track_appearance;
