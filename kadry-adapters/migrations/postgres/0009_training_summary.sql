-- R-R1: each worker's last passed training, kept up to date on every passed training record
-- (`Change::AddTraining`), so a report's training status reads one row per worker instead of
-- folding the whole history. Records are only ever appended, so the latest day only grows.
CREATE TABLE kadry_training_summary (
    person TEXT PRIMARY KEY REFERENCES kadry_persons (id),
    last_passed TEXT NOT NULL
);
INSERT INTO kadry_training_summary (person, last_passed)
    SELECT person, MAX(completed_on) FROM kadry_trainings WHERE passed GROUP BY person;
-- The hours within the cycle: the passed trainings since the cycle's first day, from the index
-- alone.
CREATE INDEX kadry_trainings_passed_since ON kadry_trainings (completed_on, person, hours) WHERE passed;
