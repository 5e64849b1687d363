-- R-R1: a report in any slice folds each worker's passed trainings into the last day passed and
-- the hours within the cycle. With the hours in the index, it reads them from the index alone,
-- never from the records' documents. The new index extends kadry_trainings_passed, which it
-- replaces.
DROP INDEX kadry_trainings_passed;
CREATE INDEX kadry_trainings_passed_hours ON kadry_trainings (person, completed_on, hours) WHERE passed;
