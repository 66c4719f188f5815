"""The [gate] section and the gate driver share one definition of each option (drivers/gate_options.py),
and the [reader] section and the reader driver one set of serial line values: a second definition
would drift apart in silence (a value added on one side only)."""
import pytest

from drivers.errors import ReaderSettingsError
from drivers.passport_reader.settings import ReaderSettings
from firmware_app.config import parse_config
from firmware_app.errors import ConfigError

MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'

# (the config's name, the driver's name) of each shared gate option
GATE_OPTIONS = (("PinFactory", "PinFactory"), ("DoorFailMode", "FailMode"))


@pytest.mark.parametrize(("config_name", "driver_name"), GATE_OPTIONS)
def test_the_gate_section_and_the_driver_share_one_definition_of_each_option(config_name, driver_name):
    import drivers.gate as driver
    import drivers.gate.layout as layout
    import drivers.gate_options as shared
    from firmware_app.config import gate_io, model
    one = getattr(shared, driver_name)
    assert getattr(gate_io, config_name) is one is getattr(model, config_name) is getattr(driver, driver_name)
    if driver_name == "FailMode":
        assert layout.FailMode is one


def test_the_driver_builds_exactly_the_pin_factories_the_config_offers():
    from drivers.gate.pins import FACTORIES
    from firmware_app.config.gate_io import PinFactory
    assert list(FACTORIES) == [factory.value for factory in PinFactory]


def test_the_layouts_the_config_accepts_are_the_drivers_and_its_errors_are_unchanged():
    from drivers.gate import LayoutKind
    for kind in LayoutKind:
        assert parse_config(MINIMAL + f'[gate]\nlayout = "{kind.value}"\n').gate.layout == kind.value
    bad = ('[gate]\npin_factory = "pigpio"\nlayout = "turnstile"\n'
           'entry = { relay = 17, closed_sensor = 27, fail_mode = "open" }\n')
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + bad)
    assert err.value.problems == [
        "gate.pin_factory: Input should be 'mock', 'lgpio' or 'rpigpio'",
        "gate.layout: String should match pattern '^(barrier|mantrap)$'",
        "gate.entry.fail_mode: Input should be 'fail_secure' or 'fail_safe'"]


def _config_accepts(key: str, value) -> bool:
    try:
        parse_config(MINIMAL + f"{key} = {value}\n")
    except ConfigError:
        return False
    return True


def _driver_accepts(key: str, value) -> bool:
    try:
        ReaderSettings(url="sim://", **{key: value})
    except ReaderSettingsError:
        return False
    return True


@pytest.mark.parametrize(("key", "values"), [("bytesize", (5, 6, 7, 8, 9)), ("stopbits", (0, 1, 1.5, 2, 2.5, 3))])
def test_the_reader_driver_accepts_exactly_the_serial_line_values_the_config_accepts(key, values):
    accepted = [value for value in values if _config_accepts(key, value)]
    assert accepted == [value for value in values if _driver_accepts(key, value)]
    assert accepted     # the comparison is not between two empty lists
