-- R-G6: registries of a period and the ФИС ФРДО export read the trainings that ended within it.
CREATE INDEX kadry_trainings_completed ON kadry_trainings (completed_on);
