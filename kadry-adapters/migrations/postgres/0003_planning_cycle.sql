-- kadry schema v3: the annual planning cycle (R-W1..R-W4, R-F1).

-- R-W3: a year's cycle: stage, priorities, norms, milestones.
CREATE TABLE kadry_cycles (
    year BIGINT PRIMARY KEY,
    doc TEXT NOT NULL
);

-- R-W3: unique numbers; one per worker and year, in the database itself.
CREATE TABLE kadry_quotas (
    number TEXT PRIMARY KEY,
    year BIGINT NOT NULL,
    holder TEXT NOT NULL REFERENCES kadry_persons (id),
    org TEXT NOT NULL REFERENCES kadry_orgs (id),
    doc TEXT NOT NULL,
    CONSTRAINT kadry_quotas_one_per_year UNIQUE (holder, year)
);
CREATE INDEX kadry_quotas_year ON kadry_quotas (year);

-- R-W3 stage 1: the questionnaire of preferences; the last answer counts.
CREATE TABLE kadry_preferences (
    person TEXT NOT NULL REFERENCES kadry_persons (id),
    year BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (person, year)
);
CREATE INDEX kadry_preferences_year ON kadry_preferences (year);

-- R-F1: limits and commitments per year and source, in kopecks; a commitment is a
-- conditional update and the CHECK holds the limit whatever the path.
CREATE TABLE kadry_funding (
    year BIGINT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('voucher', 'state')),
    amount_limit BIGINT,
    used BIGINT NOT NULL DEFAULT 0,
    commitments BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (year, source),
    CONSTRAINT kadry_funding_within CHECK (amount_limit IS NULL OR used <= amount_limit)
);

-- Forming reads a year's applications; the plan-schedule a year's formed groups.
CREATE INDEX kadry_plans_year ON kadry_plans (year);
ALTER TABLE kadry_groups ADD COLUMN plan_year BIGINT;
CREATE INDEX kadry_groups_plan_year ON kadry_groups (plan_year);
