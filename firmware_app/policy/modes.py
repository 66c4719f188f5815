"""Lane modes, switchable locally (gatectl) and by the BMIS."""
import enum


class LaneMode(str, enum.Enum):
    NORMAL = "normal"
    ASSISTED = "assisted"            # an officer confirms each decision before a door opens
    REGISTRATION_ONLY = "registration_only"  # surge: verify and record, refer everyone
    CLOSED = "closed"                # no new transactions
