-- R-R1: reports in any slice are aggregated in the database, so what they group and filter by
-- is kept in columns beside each record's document. R-G6: statements (справки) are numbered
-- gap-free per provider and year, like certificates. Existing rows are filled from their
-- documents.

ALTER TABLE kadry_orgs ADD COLUMN kind TEXT;
UPDATE kadry_orgs SET kind = doc::jsonb ->> 'kind';

ALTER TABLE kadry_persons ADD COLUMN subject TEXT;
ALTER TABLE kadry_persons ADD COLUMN birth_year BIGINT;
ALTER TABLE kadry_persons ADD COLUMN education TEXT;
ALTER TABLE kadry_persons ADD COLUMN experience_since TEXT;
ALTER TABLE kadry_persons ADD COLUMN pending_since TEXT;
UPDATE kadry_persons SET
    subject = doc::jsonb ->> 'subject',
    birth_year = COALESCE(substr(doc::jsonb -> 'profile' ->> 'birth_date', 1, 4)::BIGINT, (doc::jsonb ->> 'birth_year')::BIGINT),
    education = doc::jsonb -> 'profile' -> 'education' ->> 'level',
    experience_since = doc::jsonb -> 'profile' ->> 'experience_since',
    pending_since = doc::jsonb -> 'pending_change' ->> 'since';

ALTER TABLE kadry_employments ADD COLUMN position TEXT;
ALTER TABLE kadry_employments ADD COLUMN pedagogical BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE kadry_employments ADD COLUMN category TEXT;
UPDATE kadry_employments SET
    position = doc::jsonb ->> 'position',
    pedagogical = COALESCE((doc::jsonb ->> 'pedagogical')::BOOLEAN, FALSE),
    category = doc::jsonb ->> 'category';

ALTER TABLE kadry_vouchers ADD COLUMN issued_on TEXT;
ALTER TABLE kadry_vouchers ADD COLUMN valid_until TEXT;
UPDATE kadry_vouchers SET issued_on = doc::jsonb ->> 'issued_on', valid_until = doc::jsonb ->> 'valid_until';
CREATE INDEX kadry_enrollments_voucher ON kadry_enrollments (voucher) WHERE voucher IS NOT NULL;

ALTER TABLE kadry_trainings ADD COLUMN hours BIGINT NOT NULL DEFAULT 0;
ALTER TABLE kadry_trainings ADD COLUMN funding TEXT;
ALTER TABLE kadry_trainings ADD COLUMN stmt_year BIGINT;
ALTER TABLE kadry_trainings ADD COLUMN stmt_number TEXT;
UPDATE kadry_trainings t SET
    hours = COALESCE((t.doc::jsonb ->> 'hours')::BIGINT, 0),
    funding = COALESCE(t.doc::jsonb ->> 'funding',
        (SELECT g.doc::jsonb ->> 'funding' FROM kadry_groups g WHERE g.id = t.doc::jsonb ->> 'group'));
ALTER TABLE kadry_trainings ADD CONSTRAINT kadry_trainings_statement UNIQUE (provider, stmt_year, stmt_number);
CREATE INDEX kadry_trainings_passed ON kadry_trainings (person, completed_on) WHERE passed;
