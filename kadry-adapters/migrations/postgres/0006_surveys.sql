-- kadry schema v6: monitoring and surveys (R-R2).

-- R-R2: a survey's form, target and period as a document; its kind and, for a satisfaction
-- survey, its group beside it.
CREATE TABLE kadry_surveys (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('monitoring', 'satisfaction', 'deficits')),
    grp TEXT REFERENCES kadry_groups (id),
    created_by TEXT NOT NULL REFERENCES kadry_persons (id),
    doc TEXT NOT NULL
);

-- R-R2: answers, once each: the database itself keeps one per survey and person.
CREATE TABLE kadry_responses (
    survey TEXT NOT NULL REFERENCES kadry_surveys (id),
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    answered_on TEXT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT kadry_responses_once UNIQUE (survey, person)
);
CREATE INDEX kadry_responses_person ON kadry_responses (person);
