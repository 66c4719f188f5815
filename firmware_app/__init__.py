"""The border gate appliance: orchestration and pure logic. Imports no hardware library."""

__version__ = "0.1.0"
