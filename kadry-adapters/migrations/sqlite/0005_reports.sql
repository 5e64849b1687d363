-- R-R1: reports in any slice are aggregated in the database, so what they group and filter by
-- is kept in columns beside each record's document. R-G6: statements (справки) are numbered
-- gap-free per provider and year, like certificates. Existing rows are filled from their
-- documents.

ALTER TABLE kadry_orgs ADD COLUMN kind TEXT;
UPDATE kadry_orgs SET kind = json_extract(doc, '$.kind');

ALTER TABLE kadry_persons ADD COLUMN subject TEXT;
ALTER TABLE kadry_persons ADD COLUMN birth_year INTEGER;
ALTER TABLE kadry_persons ADD COLUMN education TEXT;
ALTER TABLE kadry_persons ADD COLUMN experience_since TEXT;
ALTER TABLE kadry_persons ADD COLUMN pending_since TEXT;
UPDATE kadry_persons SET
    subject = json_extract(doc, '$.subject'),
    birth_year = COALESCE(CAST(substr(json_extract(doc, '$.profile.birth_date'), 1, 4) AS INTEGER), json_extract(doc, '$.birth_year')),
    education = json_extract(doc, '$.profile.education.level'),
    experience_since = json_extract(doc, '$.profile.experience_since'),
    pending_since = json_extract(doc, '$.pending_change.since');

ALTER TABLE kadry_employments ADD COLUMN position TEXT;
ALTER TABLE kadry_employments ADD COLUMN pedagogical BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE kadry_employments ADD COLUMN category TEXT;
UPDATE kadry_employments SET
    position = json_extract(doc, '$.position'),
    pedagogical = COALESCE(json_extract(doc, '$.pedagogical'), 0),
    category = json_extract(doc, '$.category');

ALTER TABLE kadry_vouchers ADD COLUMN issued_on TEXT;
ALTER TABLE kadry_vouchers ADD COLUMN valid_until TEXT;
UPDATE kadry_vouchers SET issued_on = json_extract(doc, '$.issued_on'), valid_until = json_extract(doc, '$.valid_until');
CREATE INDEX kadry_enrollments_voucher ON kadry_enrollments (voucher) WHERE voucher IS NOT NULL;

ALTER TABLE kadry_trainings ADD COLUMN hours INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kadry_trainings ADD COLUMN funding TEXT;
ALTER TABLE kadry_trainings ADD COLUMN stmt_year INTEGER;
ALTER TABLE kadry_trainings ADD COLUMN stmt_number TEXT;
UPDATE kadry_trainings SET
    hours = COALESCE(json_extract(doc, '$.hours'), 0),
    funding = COALESCE(json_extract(doc, '$.funding'),
        (SELECT json_extract(g.doc, '$.funding') FROM kadry_groups g WHERE g.id = json_extract(kadry_trainings.doc, '$.group')));
CREATE UNIQUE INDEX kadry_trainings_statement ON kadry_trainings (provider, stmt_year, stmt_number);
CREATE INDEX kadry_trainings_passed ON kadry_trainings (person, completed_on) WHERE passed;
