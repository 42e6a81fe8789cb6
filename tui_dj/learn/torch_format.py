"""torch's file format, read and written with numpy alone: the console plays without torch.

A model file is the zip archive `torch.save` writes: a pickle of plain values (strings, numbers,
dicts) and tensors, whose bytes lie beside it, one file per tensor. Reading it here needs no
torch, and it unpickles nothing but those: `collections.OrderedDict`, torch's tensor rebuilder and
its storage types are the only names a file may use (as `torch.load(weights_only=True)` allows),
each mapped to numpy. Writing one emits the same pickle by hand, so `torch.load` reads what the
console saved, and the console reads what training saved.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

ROOT = "archive"  # the folder inside the archive, as torch.save names it for a file handle

# torch's storage types, by the names its pickles use, and numpy's dtype for each.
STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
            "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
            "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}
NAMES = {np.dtype(dtype): name for name, dtype in STORAGES.items()}


class FormatError(ValueError):
    """The file is not a torch archive of plain values and tensors."""


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    requires_grad: bool = False, hooks: Any = None, metadata: Any = None) -> np.ndarray:
    if not size:
        return storage[offset].copy()
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=[s * storage.itemsize for s in stride])
    return np.ascontiguousarray(view)


class _Reader(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(data))
        self.archive, self.root = archive, root

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGES:
            return STORAGES[name]
        raise FormatError(f"the file names {module}.{name}, which a model never holds")

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise FormatError("a tensor's storage is not described as torch describes it")
        _, dtype, key, _location, count = pid
        raw = self.archive.read(f"{self.root}/data/{key}")
        array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"), count=int(count))
        return array.astype(array.dtype.newbyteorder("="), copy=True)


def read(source: str | IO[bytes] | Any) -> Any:
    """What `torch.save` wrote to `source` (a path or binary handle), tensors as numpy arrays.
    Raises `FormatError` (a damaged pickle too), `zipfile.BadZipFile` or `KeyError`."""
    with zipfile.ZipFile(source) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise FormatError("no data.pkl in the archive")
        root = pickles[0][: -len("/data.pkl")]
        order = f"{root}/byteorder"
        if order in names and archive.read(order).strip() != b"little":
            raise FormatError("a big-endian file")
        try:
            return _Reader(archive.read(pickles[0]), archive, root).load()
        except pickle.UnpicklingError as exc:
            raise FormatError(f"a damaged pickle ({exc})") from None


class _Writer:
    """A protocol-2 pickle of dicts, lists, tuples, strings, numbers, None and arrays, as
    torch.save writes them."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")
        self.tensors: list[np.ndarray] = []

    def value(self, v: Any) -> None:
        if isinstance(v, np.ndarray):
            self.tensor(v)
        elif isinstance(v, Mapping):
            if isinstance(v, OrderedDict):
                self.out += b"ccollections\nOrderedDict\n)R"
            else:
                self.out += b"}"
            if v:
                self.out += b"("
                for key, item in v.items():
                    self.value(key)
                    self.value(item)
                self.out += b"u"
        elif v is None:
            self.out += b"N"
        elif isinstance(v, list):
            self.out += b"]"
            if v:
                self.out += b"("
                for item in v:
                    self.value(item)
                self.out += b"e"
        elif isinstance(v, bool):
            self.out += b"\x88" if v else b"\x89"
        elif isinstance(v, int | np.integer):
            self.out += b"J" + struct.pack("<i", int(v)) if -2**31 <= v < 2**31 else \
                b"\x8a" + bytes([8]) + int(v).to_bytes(8, "little", signed=True)
        elif isinstance(v, float | np.floating):
            self.out += b"G" + struct.pack(">d", float(v))
        elif isinstance(v, str):
            data = v.encode("utf-8")
            self.out += b"X" + struct.pack("<I", len(data)) + data
        elif isinstance(v, tuple):
            self.out += b"("
            for item in v:
                self.value(item)
            self.out += b"t"
        else:
            raise TypeError(f"cannot write a {type(v).__name__} into a model file")

    def tensor(self, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array)
        if array.dtype not in NAMES:
            raise TypeError(f"cannot write {array.dtype} numbers into a model file")
        key = str(len(self.tensors))
        self.tensors.append(array)
        stride = tuple(s // array.itemsize for s in array.strides)
        self.out += b"ctorch._utils\n_rebuild_tensor_v2\n("  # the rebuilder, then its arguments
        self.out += b"(" + self._str("storage") + f"ctorch\n{NAMES[array.dtype]}\n".encode()
        self.out += self._str(key) + self._str("cpu")
        self.value(int(array.size))
        self.out += b"tQ"  # the storage's description, as a persistent id
        self.value(0)
        self.value(tuple(int(n) for n in array.shape))
        self.value(stride)
        self.out += b"\x89ccollections\nOrderedDict\n)Rt"  # requires_grad False, no hooks
        self.out += b"R"

    @staticmethod
    def _str(text: str) -> bytes:
        data = text.encode()
        return b"X" + struct.pack("<I", len(data)) + data


def write(handle: IO[bytes], state: Mapping[str, Any]) -> None:
    """Write `state` (dicts, lists, strings, numbers and numpy arrays) as `torch.save` would, so that
    `torch.load(weights_only=True)` and `read` both read it back."""
    writer = _Writer()
    writer.value(dict(state))
    writer.out += b"."
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{ROOT}/data.pkl", bytes(writer.out))
        archive.writestr(f"{ROOT}/byteorder", "little")
        for key, array in enumerate(writer.tensors):
            archive.writestr(f"{ROOT}/data/{key}", array.astype(array.dtype.newbyteorder("<")).tobytes())
        archive.writestr(f"{ROOT}/version", "3\n")
