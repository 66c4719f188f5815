"""Commands from the BMIS as the link serves them (link.py owns the connection and the outbox).

A command arrives on paho's network thread and is only queued there (bounded: a full queue is
answered `busy` at once); the link's command thread runs the handler, one command at a time, and
stores the answer for cmd-result, on the requester's response topic when the gate may publish
there. The handler's failures become `internal_error` answers: a command is always answered.
"""
from __future__ import annotations

import logging
import queue
from collections.abc import Callable

from .contract import Identity, MessageKind, device_root
from .errors import BmisLinkError
from .mqtt_types import Incoming

log = logging.getLogger(__name__)
CommandHandler = Callable[[str, bytes, "str | None", "bytes | None"], dict]
StoreAnswer = Callable[[dict, "bytes | None", str], object]    # data, correlation, topic -> stored
COMMAND_QUEUE_SIZE = 64
MAX_RESPONSE_TOPIC = 256


def nack_not_implemented(topic: str, payload: bytes, response_topic: str | None,
                         correlation_data: bytes | None) -> dict:
    """Stand-in until a command processor is wired: every command is refused, with a reason."""
    return {"status": "nack", "reason": "not_implemented"}


class CommandDesk:
    """The queue, the worker loop and the answers. `store` puts an answer in the outbox (raising
    BmisLinkError when it cannot); `alarm` reports a command refused for security reasons."""

    def __init__(self, identity: Identity, handle: CommandHandler, store: StoreAnswer,
                 alarm: Callable[[str], None]):
        self.handle = handle
        self._store, self._alarm = store, alarm
        self._own_topic = f"{device_root(identity.prefix, identity.device_id)}/{MessageKind.CMD_RESULT.suffix}"
        self._queue: queue.Queue[Incoming | None] = queue.Queue(COMMAND_QUEUE_SIZE)

    def offer(self, incoming: Incoming) -> None:
        """On the network thread: queued for the worker, or answered `busy` when the queue is full."""
        try:
            self._queue.put_nowait(incoming)
        except queue.Full:
            self.answer(incoming, {"status": "nack", "reason": "busy"})

    def close(self) -> None:
        """Ends `work` once the commands queued before it are answered."""
        self._queue.put(None)

    def work(self) -> None:
        """The command thread's loop."""
        while (incoming := self._queue.get()) is not None:
            self.answer(incoming, self.run(incoming))

    def run(self, incoming: Incoming) -> dict:
        try:
            result = self.handle(incoming.topic, incoming.payload, incoming.response_topic,
                                 incoming.correlation_data)
        except Exception as exc:
            # Type only above DEBUG: the message of an unexpected error may echo the command's payload.
            log.error("command handler failed on %s: %s", incoming.topic, type(exc).__name__)
            log.debug("command handler failure", exc_info=True)
            return {"status": "nack", "reason": "internal_error"}
        return result if isinstance(result, dict) else {"status": "nack", "reason": "internal_error"}

    def answer(self, incoming: Incoming, result: dict) -> None:
        data = {"topic": incoming.topic[:256], **result}
        if result.get("alarm") is True:     # a bad or missing signature is reported at once
            self._alarm(f"{data.get('command')}: {data.get('reason')}"[:512])
        topic = self.result_topic(incoming.response_topic)
        try:
            self._store(data, incoming.correlation_data, topic)
        except BmisLinkError as exc:
            log.error("cannot answer command on %s: %s", incoming.topic, exc)
            fallback = {"topic": data["topic"], "status": "nack", "reason": "internal_error"}
            self._store_quietly(fallback, incoming.correlation_data, topic)

    def _store_quietly(self, data: dict, correlation: bytes | None, topic: str) -> None:
        try:
            self._store(data, correlation, topic)
        except BmisLinkError as exc:
            log.critical("cannot queue %s: %s", MessageKind.CMD_RESULT.suffix, exc)

    def result_topic(self, response_topic: str | None) -> str:
        """The requester's response topic when the gate may publish there, else the gate's cmd-result."""
        own = self._own_topic
        if response_topic and (response_topic == own or response_topic.startswith(own + "/")) \
                and "+" not in response_topic and "#" not in response_topic \
                and len(response_topic) <= MAX_RESPONSE_TOPIC:
            return response_topic
        return own
