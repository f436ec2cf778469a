"""Revenue cycle: diagnoses, coverage, authorizations, charges, claims, remittances."""
