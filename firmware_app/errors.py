"""Root of the appliance's error tree. Each layer derives its own errors from these."""


class GateError(Exception):
    """Base of every error the appliance raises on purpose."""


class ConfigError(GateError):
    """The configuration is unreadable or invalid; the lane must not start."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))
