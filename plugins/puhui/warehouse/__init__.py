"""Building the warehouse: dbt runs and reading the marts back."""
