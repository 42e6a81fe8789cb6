"""Audio the tests make for themselves (no music file is ever committed): signals in numpy, files
written with PyAV (its wheel carries FFmpeg's encoders), tags written with mutagen (GPL: tests only).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

RATE = 44_100
# Container and codec for each extension; opus only runs at 48 kHz.
FORMATS: dict[str, tuple[str, str]] = {
    ".wav": ("wav", "pcm_s16le"),
    ".flac": ("flac", "flac"),
    ".mp3": ("mp3", "mp3"),
    ".m4a": ("mp4", "aac"),
    ".ogg": ("ogg", "vorbis"),
    ".opus": ("ogg", "libopus"),
}


def need_av() -> Any:
    return pytest.importorskip("av", reason="PyAV (the audio extra) is not installed")


def need_mutagen() -> Any:
    return pytest.importorskip("mutagen", reason="mutagen (a dev dependency, for writing tags) is not installed")


def clicks(bpm: float, seconds: float, rate: int = RATE, amplitude: float = 0.8) -> np.ndarray:
    """A metronome: a 10 ms decaying 1.5 kHz burst on every beat."""
    x = np.zeros(int(seconds * rate), dtype=np.float32)
    t = np.arange(int(0.01 * rate)) / rate
    burst = (amplitude * np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.003)).astype(np.float32)
    for start in np.arange(0.0, seconds, 60.0 / bpm):
        i = int(round(start * rate))
        n = min(burst.size, x.size - i)
        x[i:i + n] += burst[:n]
    return x


def tone(seconds: float, freq: float = 440.0, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(seconds: float, amplitude: float = 0.3, seed: int = 0, rate: int = RATE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amplitude * rng.uniform(-1, 1, int(seconds * rate))).astype(np.float32)


def write_audio(path: Path, mono: np.ndarray, rate: int = RATE, stereo: bool = True) -> Path:
    """Encode `mono` (float32 in [-1, 1]) into `path`, the format taken from its extension."""
    av = need_av()
    container_format, codec = FORMATS[path.suffix.lower()]
    if codec == "libopus":
        rate = 48_000 if rate != 48_000 else rate
        mono = _resample_linear(mono, RATE, rate) if rate != RATE else mono
    layout = "stereo" if stereo else "mono"
    channels = np.stack([mono, mono]) if stereo else mono[None, :]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container_format) as out:
        # FFmpeg's own Vorbis encoder is marked experimental; it is good enough for test signals.
        options = {"strict": "-2"} if codec == "vorbis" else {}
        stream = out.add_stream(codec, rate=rate, layout=layout, options=options)
        step = 4096
        for i in range(0, channels.shape[1], step):
            chunk = np.ascontiguousarray(channels[:, i:i + step], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _resample_linear(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    n_out = int(x.size * rate_out / rate_in)
    return np.interp(np.arange(n_out) * rate_in / rate_out, np.arange(x.size), x).astype(np.float32)


# A 1x1 PNG: album art small enough to embed everywhere.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def tag_file(path: Path, *, title: str, artist: str, album: str = "", genre: str = "",
             isrc: str = "", art: bool = True, utf16: bool = False) -> Path:
    """Write tags (and a cover picture) the way common taggers do for each format."""
    need_mutagen()
    suffix = path.suffix.lower()
    if suffix == ".mp3":
        from mutagen.id3 import APIC, ID3, TALB, TCON, TIT2, TPE1, TSRC, Encoding

        enc = Encoding.UTF16 if utf16 else Encoding.UTF8
        tags = ID3()
        tags.add(TIT2(encoding=enc, text=title))
        tags.add(TPE1(encoding=enc, text=artist))
        if album:
            tags.add(TALB(encoding=enc, text=album))
        if genre:
            tags.add(TCON(encoding=enc, text=genre))
        if isrc:
            tags.add(TSRC(encoding=enc, text=isrc))
        if art:
            tags.add(APIC(encoding=Encoding.UTF8, mime="image/png", type=3, desc="cover", data=PNG))
        tags.save(str(path), v2_version=3 if utf16 else 4)
    elif suffix == ".flac":
        from mutagen.flac import FLAC, Picture

        flac = FLAC(str(path))
        _vorbis_comments(flac, title, artist, album, genre, isrc)
        if art:
            picture = Picture()
            picture.type, picture.mime, picture.data = 3, "image/png", PNG
            flac.add_picture(picture)
        flac.save()
    elif suffix in (".ogg", ".opus"):
        import base64

        from mutagen.flac import Picture
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis

        opus = (OggOpus if suffix == ".opus" else OggVorbis)(str(path))
        _vorbis_comments(opus, title, artist, album, genre, isrc)
        if art:
            picture = Picture()
            picture.type, picture.mime, picture.data = 3, "image/png", PNG
            opus["metadata_block_picture"] = [base64.b64encode(picture.write()).decode("ascii")]
        opus.save()
    elif suffix == ".m4a":
        from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

        mp4 = MP4(str(path))
        mp4["\xa9nam"], mp4["\xa9ART"] = [title], [artist]
        if album:
            mp4["\xa9alb"] = [album]
        if genre:
            mp4["\xa9gen"] = [genre]
        if isrc:
            mp4["----:com.apple.iTunes:ISRC"] = [MP4FreeForm(isrc.encode("utf-8"))]
        if art:
            mp4["covr"] = [MP4Cover(PNG, imageformat=MP4Cover.FORMAT_PNG)]
        mp4.save()
    else:
        raise ValueError(f"no tagger for {suffix}")
    return path


def _vorbis_comments(tags: Any, title: str, artist: str, album: str, genre: str, isrc: str) -> None:
    tags["title"], tags["artist"] = title, artist
    for key, value in (("album", album), ("genre", genre), ("isrc", isrc)):
        if value:
            tags[key] = value


def append_id3v1(path: Path, *, title: bytes, artist: bytes, album: bytes = b"", genre: int = 17) -> Path:
    """Append an ID3v1 block (raw bytes, so latin-1 or anything else) to the end of `path`."""

    def field(value: bytes, size: int) -> bytes:
        return value[:size].ljust(size, b"\x00")

    block = b"TAG" + field(title, 30) + field(artist, 30) + field(album, 30) + b"2001"
    block += field(b"", 28) + b"\x00\x01" + struct.pack("B", genre)
    with path.open("ab") as handle:
        handle.write(block)
    return path


def song(bpm: float, seconds: float, seed: int = 0, rate: int = RATE, gain: float = 1.0) -> np.ndarray:
    """Something like music: kick on the beat, hi-hat on the off-beats, a bass and a major triad."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    x = np.zeros(n, dtype=np.float64)
    beat = 60.0 / bpm
    kick_t = np.arange(int(0.15 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-kick_t / 0.03)) * kick_t) * np.exp(-kick_t / 0.08)
    hat = rng.uniform(-1, 1, int(0.03 * rate)) * np.exp(-np.arange(int(0.03 * rate)) / (0.006 * rate))
    for k, start in enumerate(np.arange(0.0, seconds, beat / 2)):
        i = int(start * rate)
        sound = 0.7 * kick if k % 2 == 0 else 0.15 * hat
        m = min(sound.size, n - i)
        x[i:i + m] += sound[:m]
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    for ratio in (1.0, 1.25, 1.5):
        x += 0.08 * np.sin(2 * np.pi * 2 * root * ratio * t)
    x += 0.15 * np.sin(2 * np.pi * root / 2 * t) * (0.6 + 0.4 * np.cos(2 * np.pi * t / beat))
    return (gain * 0.8 * x / max(1e-9, np.abs(x).max())).astype(np.float32)
