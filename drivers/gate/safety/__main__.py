"""`python -m drivers.gate.safety --config FILE`: the same as `gate-safety`."""
import sys

from .controller import main

sys.exit(main())
