"""The model's one error type for its users."""


class ScenarioError(ValueError):
    """A bad scenario or parameter. Its message is one line meant for the user."""
