"""certflow: shared kernel (config, database, clock, roles) and the command line."""
