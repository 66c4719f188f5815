"""Read a PyTorch state dict without torch, and without running arbitrary pickle code.

MiniVision published MiniFASNet as PyTorch pickles in the legacy (pre-1.6, non-zip) format: a
run of pickles (magic number, protocol version, system info, the state dict, the storage keys)
followed by each storage's raw bytes, every one preceded by its element count (int64 LE).

The state dict pickle refers to storages by persistent id and rebuilds tensors through
`torch._utils._rebuild_tensor_v2`. The unpickler below resolves only the globals that a plain
state dict needs (an OrderedDict, that rebuild function, and the storage type names); anything
else in the stream — a class, a function, an `os.system` — is refused with `UnsafePickle`.
Sizes are bounded, so a hostile file costs at most MAX_FILE_BYTES of memory.
"""
from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
MAX_FILE_BYTES = 64 << 20
MAX_TENSORS = 4096
STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32, "ByteStorage": np.uint8}


class UnsafePickle(ValueError):
    """The file is not a plain legacy PyTorch state dict (a refused global, a bad size, ...)."""


@dataclass
class _Storage:
    key: str
    dtype: type
    size: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


@dataclass
class _StorageType:
    name: str


def _rebuild_tensor_v2(storage, offset, shape, stride, *_ignored) -> _TensorRef:
    if not isinstance(storage, _Storage):
        raise UnsafePickle("tensor without a storage")
    return _TensorRef(storage, int(offset), tuple(int(d) for d in shape), tuple(int(s) for s in stride))


def _rebuild_parameter(tensor, *_ignored):
    return tensor


_ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter}


class _Reader(pickle.Unpickler):
    """Resolves only the allowed globals; collects the storages the state dict refers to."""

    def __init__(self, stream: io.BytesIO) -> None:
        super().__init__(stream)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafePickle(f"refused global {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise UnsafePickle("unexpected persistent id")
        kind, key, size = pid[1], str(pid[2]), int(pid[4])
        if not isinstance(kind, _StorageType) or not 0 <= size <= MAX_FILE_BYTES:
            raise UnsafePickle("bad storage reference")
        return self.storages.setdefault(key, _Storage(key, STORAGE_DTYPES[kind.name], size))


def _next_pickle(reader: _Reader):
    try:
        return reader.load()
    except UnsafePickle:
        raise
    except Exception as exc:  # any malformed pickle opcode stream
        raise UnsafePickle(f"malformed pickle: {type(exc).__name__}") from exc


def _read_storage_bytes(stream: io.BytesIO, storage: _Storage) -> None:
    header = stream.read(8)
    if len(header) != 8:
        raise UnsafePickle("truncated storage")
    (count,) = struct.unpack("<q", header)
    nbytes = count * np.dtype(storage.dtype).itemsize
    if count != storage.size or nbytes > MAX_FILE_BYTES:
        raise UnsafePickle("storage size mismatch")
    raw = stream.read(nbytes)
    if len(raw) != nbytes:
        raise UnsafePickle("truncated storage")
    storage.data = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))


def _materialise(ref: _TensorRef) -> np.ndarray:
    data = ref.storage.data
    itemsize = data.itemsize
    needed = ref.offset + sum((d - 1) * s for d, s in zip(ref.shape, ref.stride)) + 1
    if min(ref.shape, default=1) > 0 and (ref.offset < 0 or needed > data.size):
        raise UnsafePickle("tensor outside its storage")
    view = np.lib.stride_tricks.as_strided(
        data[ref.offset:], shape=ref.shape, strides=tuple(s * itemsize for s in ref.stride))
    return np.array(view, dtype=np.float32 if data.dtype.kind == "f" else data.dtype)


def load_state_dict(blob: bytes) -> dict[str, np.ndarray]:
    """The tensors of a legacy PyTorch state dict, by name, as numpy arrays."""
    if len(blob) > MAX_FILE_BYTES:
        raise UnsafePickle("file too large")
    stream = io.BytesIO(blob)
    reader = _Reader(stream)
    if _next_pickle(reader) != LEGACY_MAGIC:
        raise UnsafePickle("not a legacy PyTorch file")
    _next_pickle(reader)  # protocol version
    _next_pickle(reader)  # system info (endianness, type sizes)
    state = _next_pickle(reader)
    keys = _next_pickle(reader)
    if not isinstance(state, dict) or not isinstance(keys, list) or len(state) > MAX_TENSORS:
        raise UnsafePickle("not a state dict")
    for key in keys:
        if str(key) not in reader.storages:
            raise UnsafePickle("unknown storage key")
        _read_storage_bytes(stream, reader.storages[str(key)])
    return _tensors(state)


def _tensors(state: dict) -> dict[str, np.ndarray]:
    out = {}
    for name, ref in state.items():
        if not isinstance(name, str) or not isinstance(ref, _TensorRef) or ref.storage.data is None:
            raise UnsafePickle("state dict entry is not a stored tensor")
        out[name] = _materialise(ref)
    return out
