"""Framings of real passport readers: pure incremental decoders and matching encoders."""
from __future__ import annotations

from collections.abc import Sequence

from drivers.passport_reader.framing.common import DecoderLimits, FrameDecoder
from drivers.passport_reader.framing.cute import FS, GS, CuteDecoder, encode_cute
from drivers.passport_reader.framing.lines import LinesDecoder, encode_lines
from drivers.passport_reader.framing.rte import (
    RteDecoder,
    RteOptions,
    block_check,
    encode_block,
    encode_rte,
)
from drivers.passport_reader.settings import Framing, ReaderSettings

__all__ = [
    "CuteDecoder",
    "DecoderLimits",
    "FrameDecoder",
    "LinesDecoder",
    "RteDecoder",
    "RteOptions",
    "block_check",
    "decoder_for",
    "encode",
    "encode_block",
    "encode_cute",
    "encode_lines",
    "encode_rte",
    "rte_options",
]


def rte_options(settings: ReaderSettings) -> RteOptions:
    return RteOptions(settings.check_bcc, settings.rte_bcc_scope, settings.rte_length_scope,
                      settings.rte_use_bcc)


def decoder_for(settings: ReaderSettings) -> FrameDecoder:
    limits = DecoderLimits(max_frame_bytes=settings.max_frame_bytes,
                           idle_timeout_s=settings.line_timeout_s)
    if settings.framing is Framing.CUTE:
        return CuteDecoder(limits, *settings.cute_bytes)
    if settings.framing is Framing.RTE:
        return RteDecoder(limits, rte_options(settings))
    return LinesDecoder(limits)


def encode(framing: Framing, lines: Sequence[str], options: RteOptions = RteOptions(),
           cute_bytes: tuple[int | None, int | None] = (FS, GS)) -> bytes:
    """Frame one document the way a reader of that kind sends it."""
    framing = Framing(framing)
    if framing is Framing.CUTE:
        return encode_cute(lines, *cute_bytes)
    if framing is Framing.RTE:
        return encode_rte(lines, options)
    return encode_lines(lines)
