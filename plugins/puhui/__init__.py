"""puhui: inclusive-finance data platform."""
