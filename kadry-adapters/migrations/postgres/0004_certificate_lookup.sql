-- R-G6: the public check of a certificate finds it by its number (then its series).
CREATE INDEX kadry_trainings_cert_number ON kadry_trainings (cert_number);
