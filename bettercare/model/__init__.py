"""The model: scenario, areas, plans, negotiation, trust, assurance, delivery."""
