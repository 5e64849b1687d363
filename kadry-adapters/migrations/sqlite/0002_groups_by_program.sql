-- The catalogue lists a program's groups (Query::Catalogue).
CREATE INDEX kadry_groups_program ON kadry_groups (program);
