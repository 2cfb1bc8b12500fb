-- Every activation of a program version is an audit entry (`activate_program`, its detail the
-- version's content hash); GET /v1/program/versions lists them newest first. The log also holds
-- every adjustment and correction, so the activations get an index of their own.
CREATE INDEX audit_log_activations ON audit_log (id) WHERE action = 'activate_program';
