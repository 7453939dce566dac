"""pandera models of the source files: one module per source system, no Airflow imports."""
