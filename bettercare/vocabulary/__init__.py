"""The words every layer shares: a plan's slots and features, phases and statuses, and the
rule by which trust moves. Nothing here imports the rest of bettercare."""
