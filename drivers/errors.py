"""Errors of the hardware boundary, shared by every kind of driver."""


class DriverError(Exception):
    """Base of all driver errors."""


class DriverUnavailable(DriverError):
    """The device is absent, unplugged or could not be opened."""


class DriverTimeout(DriverError):
    """The device did not answer in time."""


class DriverIOError(DriverError):
    """The device answered with something unusable or the link broke."""


class UnknownBackend(DriverError):
    """A device URL names a backend this build does not have."""
