"""One strict configuration model, loaded from TOML. Unknown keys are errors."""

from .load import check_config_file, load_config, parse_config
from .model import GateConfig

__all__ = ["GateConfig", "check_config_file", "load_config", "parse_config"]
