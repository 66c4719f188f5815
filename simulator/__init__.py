"""Virtual devices and scenarios for testers; composes the drivers' simulated backends."""
