"""One strict configuration model, loaded from TOML. Unknown keys are errors."""

from .model import GateConfig
from .load import load_config, parse_config, check_config_file

__all__ = ["GateConfig", "load_config", "parse_config", "check_config_file"]
