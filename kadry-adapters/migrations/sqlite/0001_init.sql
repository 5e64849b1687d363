-- kadry schema v1 (SQLite). Every entity keeps its full record as JSON in `doc`;
-- the columns beside it are what the rules and constraints need. Nothing is ever deleted
-- except decided role requests (R-A11: history stays).

CREATE TABLE kadry_territories (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE kadry_orgs (
    id TEXT PRIMARY KEY,
    territory TEXT NOT NULL REFERENCES kadry_territories (id),
    parent TEXT REFERENCES kadry_orgs (id),
    doc TEXT NOT NULL
);
CREATE INDEX kadry_orgs_territory ON kadry_orgs (territory);

-- R-A2: the email is unique, case-insensitively (email_key is the lowercase form).
-- R-A3: SNILS is unique where given.
CREATE TABLE kadry_persons (
    id TEXT PRIMARY KEY,
    email_key TEXT NOT NULL,
    snils TEXT,
    doc TEXT NOT NULL,
    CONSTRAINT kadry_persons_email_key UNIQUE (email_key),
    CONSTRAINT kadry_persons_snils UNIQUE (snils)
);

CREATE TABLE kadry_grants (
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (person, role, scope)
);
CREATE INDEX kadry_grants_role ON kadry_grants (role);

CREATE TABLE kadry_role_requests (
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    role TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (person, role)
);

CREATE TABLE kadry_employments (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    org TEXT NOT NULL REFERENCES kadry_orgs (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'dismissed')),
    doc TEXT NOT NULL
);
CREATE INDEX kadry_employments_person ON kadry_employments (person);
CREATE INDEX kadry_employments_org ON kadry_employments (org, status);

-- R-V3: one open application per worker, in the database itself.
CREATE TABLE kadry_vouchers (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    status TEXT NOT NULL CHECK (status IN ('requested', 'rejected', 'issued', 'cancelled')),
    doc TEXT NOT NULL
);
CREATE INDEX kadry_vouchers_person ON kadry_vouchers (person);
CREATE UNIQUE INDEX kadry_vouchers_one_open ON kadry_vouchers (person) WHERE status = 'requested';

CREATE TABLE kadry_programs (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL REFERENCES kadry_orgs (id),
    doc TEXT NOT NULL
);

-- R-G3: a group's taken seats never exceed its capacity.
CREATE TABLE kadry_groups (
    id TEXT PRIMARY KEY,
    program TEXT NOT NULL REFERENCES kadry_programs (id),
    provider TEXT NOT NULL REFERENCES kadry_orgs (id),
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    taken INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL,
    CONSTRAINT kadry_groups_seats CHECK (taken >= 0 AND taken <= capacity)
);

CREATE TABLE kadry_enrollments (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    grp TEXT NOT NULL REFERENCES kadry_groups (id),
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    voucher TEXT REFERENCES kadry_vouchers (id),
    status TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX kadry_enrollments_grp ON kadry_enrollments (grp);
CREATE INDEX kadry_enrollments_person ON kadry_enrollments (person);

-- R-G6: certificate numbers are unique per provider and year.
CREATE TABLE kadry_trainings (
    seq INTEGER PRIMARY KEY,
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    provider TEXT REFERENCES kadry_orgs (id),
    cert_year INTEGER,
    cert_number TEXT,
    passed BOOLEAN NOT NULL DEFAULT FALSE,
    completed_on TEXT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT kadry_trainings_certificate UNIQUE (provider, cert_year, cert_number)
);
CREATE INDEX kadry_trainings_person ON kadry_trainings (person);

CREATE TABLE kadry_plans (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    program TEXT NOT NULL REFERENCES kadry_programs (id),
    year INTEGER NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT kadry_plans_once UNIQUE (person, program, year)
);

-- R-N1: the transactional outbox.
CREATE TABLE kadry_outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    delivered BOOLEAN NOT NULL DEFAULT FALSE,
    gave_up BOOLEAN NOT NULL DEFAULT FALSE,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at BIGINT,
    doc TEXT NOT NULL
);
CREATE INDEX kadry_outbox_person ON kadry_outbox (person);
CREATE INDEX kadry_outbox_due ON kadry_outbox (delivered, gave_up, seq);

CREATE TABLE kadry_audit (
    seq INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    doc TEXT NOT NULL
);
