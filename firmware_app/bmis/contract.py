"""The MQTT message contract with the BMIS: message kinds, topics, their JSON Schemas, the
envelope every message carries, and receipts.

Topics are `{prefix}/v1/{device}/{suffix}`; the `v1` in the topic is the contract's major version,
the `schema` member of every message ("events/crossing/1.0") names kind and minor version.
Schemas live in ./schemas (draft 2020-12), all sharing envelope.json.

The envelope is built from an injected clock and id source; seq and boot come from the outbox
(persisted there, in the same transaction as the message), so building stays pure: same inputs,
same bytes.

Receipts: the BMIS's end-to-end acknowledgement of the gate messages it has durably stored.

A PUBACK only says the broker took a message; a broker that dies before delivering it loses it.
The BMIS therefore publishes, after its own commit, `{prefix}/v1/{device}/receipt` (schemas/
receipt.json: up to 500 msg_ids). The gate parses a receipt here (bounded in size before any
parsing, then checked against the schema) and the outbox forgets what it names; the reference
consumer builds them with `build_receipt`.
"""
from __future__ import annotations

import datetime as dt
import enum
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from .errors import ContractViolation

CONTRACT_MAJOR = "v1"
SCHEMA_DIR = Path(__file__).with_name("schemas")
SCHEMA_BASE = "https://schemas.border-gate.invalid/bmis/v1/"
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_PROBLEMS = 10


class Priority(enum.IntEnum):
    """Drain order of the outbox backlog: lower first."""
    STATUS = 0
    ALARM = 1
    COMMAND_RESULT = 2
    EVENT = 3
    STATS = 4


@dataclass(frozen=True)
class KindInfo:
    suffix: str
    minor: int
    priority: Priority
    retained: bool


class MessageKind(enum.Enum):
    STATUS = KindInfo("status", 0, Priority.STATUS, True)
    HEALTH = KindInfo("health", 2, Priority.STATUS, True)    # 1.1: note, receipt backlog; 1.2: versions, cert
    ALARM = KindInfo("alarms", 0, Priority.ALARM, False)
    CMD_RESULT = KindInfo("cmd-result", 0, Priority.COMMAND_RESULT, False)
    # 1.1: face.pad_*; 1.2: onestop; 1.3: officer_decision; 1.4: chip.pace_parameters
    CROSSING = KindInfo("events/crossing", 4, Priority.EVENT, False)
    EXCEPTION = KindInfo("events/exception", 0, Priority.EVENT, False)
    STATS = KindInfo("stats", 1, Priority.STATS, False)     # 1.1: suppressed (one-stop small cells)

    @property
    def suffix(self) -> str:
        return self.value.suffix

    @property
    def schema_id(self) -> str:
        """The `schema` member of a message of this kind."""
        return f"{self.value.suffix}/1.{self.value.minor}"

    @property
    def priority(self) -> Priority:
        return self.value.priority

    @property
    def retained(self) -> bool:
        return self.value.retained

    @property
    def schema_file(self) -> str:
        return self.value.suffix.replace("/", "-") + ".json"

    @classmethod
    def from_suffix(cls, suffix: str) -> MessageKind:
        for kind in cls:
            if kind.suffix == suffix:
                return kind
        raise ContractViolation(suffix, ["unknown message kind"])


def check_segment(value: str, what: str) -> str:
    """Topic segments (prefix parts, device id) must not contain wildcards, slashes or be empty."""
    if not _SEGMENT.match(value):
        raise ContractViolation("topic", [f"{what} {value!r} is not a plain topic segment"])
    return value


def device_root(prefix: str, device_id: str) -> str:
    for part in prefix.split("/"):
        check_segment(part, "prefix part")
    return f"{prefix}/{CONTRACT_MAJOR}/{check_segment(device_id, 'device id')}"


def topic_for(prefix: str, device_id: str, kind: MessageKind) -> str:
    return f"{device_root(prefix, device_id)}/{kind.suffix}"


def command_filter(prefix: str, device_id: str) -> str:
    return f"{device_root(prefix, device_id)}/cmd/#"


RECEIPT_SUFFIX = "receipt"


def receipt_topic(prefix: str, device_id: str) -> str:
    """Where the BMIS confirms a gate's messages it stored (BMIS -> gate; see receipt.json)."""
    return f"{device_root(prefix, device_id)}/{RECEIPT_SUFFIX}"

# jsonschema messages of these rules name schema properties only; every other message quotes the value.
_MESSAGES_WITHOUT_VALUES = frozenset({"required", "additionalProperties", "dependentRequired"})


@lru_cache(maxsize=1)
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def _validator(file_name: str) -> Draft202012Validator:
    registry = _registry()
    schema = registry.contents(SCHEMA_BASE + file_name)
    return Draft202012Validator(schema, registry=registry)


@cache
def _params_validator(command: str) -> Draft202012Validator:
    registry = _registry()
    pointer = f"/$defs/params/{command}"
    if registry.contents(SCHEMA_BASE + "cmd.json")["$defs"]["params"].get(command) is None:
        raise ContractViolation("cmd", [f"no parameter schema for command {command!r}"])
    return Draft202012Validator({"$ref": f"{SCHEMA_BASE}cmd.json#{pointer}"}, registry=registry)


def command_params_problems(command: str, params: Any) -> list[str]:
    """Problems of a command's `params` against cmd.json's $defs/params/{command} (for the BMIS side
    and the tests; the gate's own checks are in the command handlers and the alert store)."""
    return _problems(_params_validator(command), params)


def problems(file_name: str, document: Any) -> list[str]:
    """Readable schema violations of `document` (empty when it conforms). They name the place and
    the rule, never the offending value: a crossing's values are personal data and problems end up
    in exceptions and logs."""
    return _problems(_validator(file_name), document)


def _problems(validator: Draft202012Validator, document: Any) -> list[str]:
    found = []
    for error in validator.iter_errors(document):
        error = _closest(error)
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        found.append(f"{where}: {_rule_broken(error)}")
        if len(found) >= MAX_PROBLEMS:
            break
    return found


def _closest(error):
    """For oneOf/anyOf, the deepest failure of the alternatives (e.g. a bad field of the document
    rather than "document is not null"); other errors as they are."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def _rule_broken(error) -> str:
    if error.validator in _MESSAGES_WITHOUT_VALUES:
        return error.message[:200]
    return f"violates {error.validator} {json.dumps(error.validator_value, default=str)[:80]}"


def validate_message(kind: MessageKind, message: Any) -> None:
    """Raise ContractViolation unless `message` (a decoded envelope) conforms to its kind's schema."""
    found = problems(kind.schema_file, message)
    if found:
        raise ContractViolation(kind.suffix, found)
    if message.get("schema") != kind.schema_id:
        raise ContractViolation(kind.suffix, [f"schema member {message.get('schema')!r} != {kind.schema_id!r}"])


def validate_command(message: Any) -> list[str]:
    """Problems of an incoming command body against cmd.json (the command handler decides what to do)."""
    return problems("cmd.json", message)


def kind_of_topic(topic: str) -> tuple[str, MessageKind]:
    """(device_id, kind) of a gate topic `{prefix}/v1/{device}/{suffix}`, for consumers."""
    marker = f"/{CONTRACT_MAJOR}/"
    if marker not in topic:
        raise ContractViolation("topic", [f"{topic!r} has no /{CONTRACT_MAJOR}/ segment"])
    rest = topic.split(marker, 1)[1]
    device_id, _, suffix = rest.partition("/")
    return check_segment(device_id, "device id"), MessageKind.from_suffix(suffix)


# -- the envelope ----------------------------------------------------------------------------------
Clock = Callable[[], dt.datetime]
IdSource = Callable[[], uuid.UUID]
MAX_PAYLOAD_BYTES = 256 * 1024


def utc_now() -> dt.datetime:
    """The production clock (injected; pure code never calls it itself)."""
    return dt.datetime.now(dt.UTC)


def utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ContractViolation("time", ["naive datetime: the clock must give UTC-aware times"])
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Identity:
    device_id: str
    post_id: str
    prefix: str = "gates"

    def __post_init__(self) -> None:
        check_segment(self.device_id, "device id")
        check_segment(self.post_id, "post id")

    def topic(self, kind: MessageKind) -> str:
        return topic_for(self.prefix, self.device_id, kind)


@dataclass(frozen=True)
class Envelope:
    """One message ready to publish: what goes into the outbox row."""
    kind: MessageKind
    msg_id: str
    seq: int
    topic: str
    payload: bytes

    @property
    def retained(self) -> bool:
        return self.kind.retained


def build(identity: Identity, kind: MessageKind, data: dict[str, Any], *, msg_id: uuid.UUID, seq: int,
          boot: int, now: dt.datetime) -> dict[str, Any]:
    return {"schema": kind.schema_id, "msg_id": str(msg_id), "device_id": identity.device_id,
            "post_id": identity.post_id, "seq": seq, "boot": boot, "time": utc_text(now), "data": data}


def encode(message: dict[str, Any]) -> bytes:
    try:
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ContractViolation(message.get("schema", "?"), [f"not JSON-serialisable: {exc}"]) from exc
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractViolation(message.get("schema", "?"), [f"payload of {len(payload)} bytes is too large"])
    return payload


def decode(payload: bytes) -> dict[str, Any]:
    """A received message as a dict; ContractViolation for anything that is not a JSON object."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractViolation("payload", [f"{len(payload)} bytes is too large"])
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ContractViolation("payload", [f"not JSON: {type(exc).__name__}"]) from exc
    if not isinstance(message, dict):
        raise ContractViolation("payload", ["not a JSON object"])
    return message


# -- receipts --------------------------------------------------------------------------------------
RECEIPT_SCHEMA = "receipt/1.0"
MAX_RECEIPT_IDS = 500
MAX_RECEIPT_BYTES = 64 * 1024     # 500 ids take ~20 KiB: a larger payload is refused unparsed


def parse_receipt(payload: bytes) -> list[str]:
    """The msg_ids a receipt names; ContractViolation for anything that is not a valid receipt."""
    if len(payload) > MAX_RECEIPT_BYTES:
        raise ContractViolation("receipt", [f"{len(payload)} bytes is too large"])
    message = decode(payload)
    found = problems("receipt.json", message)
    if found:
        raise ContractViolation("receipt", found)
    return list(message["msg_ids"])


def build_receipt(msg_ids: Iterable[str], *, receipt_id: uuid.UUID, now: dt.datetime) -> bytes:
    """One receipt payload (at most MAX_RECEIPT_IDS ids; split larger sets with `chunks`)."""
    ids = list(dict.fromkeys(msg_ids))
    if not 1 <= len(ids) <= MAX_RECEIPT_IDS:
        raise ContractViolation("receipt", [f"{len(ids)} msg_ids (1..{MAX_RECEIPT_IDS} allowed)"])
    message = {"schema": RECEIPT_SCHEMA, "receipt_id": str(receipt_id), "time": utc_text(now), "msg_ids": ids}
    found = problems("receipt.json", message)
    if found:
        raise ContractViolation("receipt", found)
    return json.dumps(message, separators=(",", ":")).encode()


def chunks(msg_ids: list[str], size: int = MAX_RECEIPT_IDS) -> list[list[str]]:
    return [msg_ids[i:i + size] for i in range(0, len(msg_ids), size)]
