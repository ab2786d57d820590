-- How far the event journal (`journal/` beside the database) has been loaded into the event
-- tables. Written in the same transaction as the rows it covers, so a crash between the two
-- is impossible and a restart replays exactly the records after it.
CREATE TABLE event_journal (
    id             INTEGER PRIMARY KEY,
    loaded_through BIGINT NOT NULL
);
INSERT INTO event_journal VALUES (1, 0);
