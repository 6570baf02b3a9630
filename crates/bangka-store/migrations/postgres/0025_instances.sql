-- The running instances (issue 24): each beats every two seconds, and the
-- rate limits are shared among those that beat in the last ten (each
-- instance enforces its share). Rows of instances long gone are removed
-- by the beats of the others.
CREATE TABLE instances (
    id       TEXT PRIMARY KEY,
    seen_at  BIGINT NOT NULL
);
