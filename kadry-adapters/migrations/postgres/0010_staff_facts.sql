-- R-R1, R-W3 stage 1: the staff facts, one row per active employment with everything a report
-- in any slice and the eligibility selection read: the employment's columns, its organisation's
-- territory and kind, the worker's profile columns, whether the worker holds another active
-- employment (`shared`), and their last three passed trainings (day and hours, newest first;
-- `more` when there are older ones). A report then reads one narrow table: no join, and the hours
-- within any cycle come from the three columns, folding the records only for a worker with more
-- than three passed trainings within it. Kept by the adapter on every change that moves a fact
-- (`sql::facts_refresh`): an employment, a person, an organisation, a passed training. The facts
-- replace migration 0009's summary, and its unused index goes with it.
ALTER TABLE kadry_employments ADD COLUMN parental_leave BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE kadry_employments SET parental_leave = COALESCE((doc::jsonb ->> 'parental_leave')::BOOLEAN, FALSE);
DROP INDEX kadry_trainings_passed_since;
DROP TABLE kadry_training_summary;
CREATE TABLE kadry_staff_facts (
    employment TEXT PRIMARY KEY REFERENCES kadry_employments (id),
    seq BIGINT NOT NULL,
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    org TEXT NOT NULL REFERENCES kadry_orgs (id),
    territory TEXT NOT NULL,
    org_kind TEXT,
    position TEXT,
    pedagogical BOOLEAN NOT NULL,
    category TEXT,
    parental_leave BOOLEAN NOT NULL,
    subject TEXT,
    birth_year BIGINT,
    education TEXT,
    experience_since TEXT,
    last_funding TEXT,
    d1 TEXT,
    h1 BIGINT NOT NULL,
    d2 TEXT,
    h2 BIGINT NOT NULL,
    d3 TEXT,
    h3 BIGINT NOT NULL,
    more BOOLEAN NOT NULL,
    shared BOOLEAN NOT NULL
);
CREATE INDEX kadry_staff_facts_person ON kadry_staff_facts (person);
CREATE INDEX kadry_staff_facts_org ON kadry_staff_facts (org);
CREATE INDEX kadry_staff_facts_territory ON kadry_staff_facts (territory);
-- The few rows a report reduces per worker first: a worker with another active employment, or
-- with more passed trainings than the row holds.
CREATE INDEX kadry_staff_facts_shared ON kadry_staff_facts (person) WHERE shared;
CREATE INDEX kadry_staff_facts_more ON kadry_staff_facts (d3) WHERE more;
-- The same statement as `sql::facts_refresh`, for every worker.
INSERT INTO kadry_staff_facts (employment, seq, person, org, territory, org_kind, position, pedagogical, category,
        parental_leave, subject, birth_year, education, experience_since, last_funding, d1, h1, d2, h2, d3, h3, more,
        shared)
    SELECT e.id, e.seq, e.person, e.org, o.territory, o.kind, e.position, e.pedagogical, e.category, e.parental_leave,
        p.subject, p.birth_year, p.education, p.experience_since, r.funding, r.d1, COALESCE(r.h1, 0), r.d2,
        COALESCE(r.h2, 0), r.d3, COALESCE(r.h3, 0), COALESCE(r.more, FALSE), c.shared
    FROM kadry_employments e JOIN kadry_orgs o ON o.id = e.org JOIN kadry_persons p ON p.id = e.person
    JOIN (SELECT person, COUNT(*) > 1 AS shared FROM kadry_employments WHERE status = 'active' GROUP BY person) c
        ON c.person = e.person
    LEFT JOIN (SELECT person, MAX(CASE WHEN n = 1 THEN completed_on END) AS d1, MAX(CASE WHEN n = 1 THEN hours END) AS h1,
            MAX(CASE WHEN n = 2 THEN completed_on END) AS d2, MAX(CASE WHEN n = 2 THEN hours END) AS h2,
            MAX(CASE WHEN n = 3 THEN completed_on END) AS d3, MAX(CASE WHEN n = 3 THEN hours END) AS h3,
            MAX(CASE WHEN n = 1 THEN funding END) AS funding, MAX(n) > 3 AS more
        FROM (SELECT person, completed_on, hours, funding,
                ROW_NUMBER() OVER (PARTITION BY person ORDER BY completed_on DESC, seq DESC) AS n
            FROM kadry_trainings WHERE passed) ranked
        WHERE n <= 4 GROUP BY person) r ON r.person = e.person
    WHERE e.status = 'active';
