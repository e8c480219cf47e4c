"""The audit (R-7.3, R-8.1 … R-8.6, R-8.9, R-3, R-13): plan and preparation, on-site evidence,
conclusion and score, the audit report. Rules and queries only — no Flask, no engine."""
