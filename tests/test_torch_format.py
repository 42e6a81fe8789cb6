"""The model file read and written without torch: the same bytes of weights either way, nothing
unpickled but plain values, and a console session that never imports torch."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.faults import Exploit
from tui_dj.learn import torch_format
from tui_dj.learn.model_file import default_model_path, load_agent, load_playing, save_agent


def test_the_shipped_model_reads_the_same_without_torch() -> None:
    mine = torch_format.read(default_model_path())
    theirs = torch.load(default_model_path(), weights_only=True)
    assert mine.keys() == theirs.keys()
    for name, tensor in theirs["online"].items():
        assert mine["online"][name].dtype == np.float32
        assert np.array_equal(mine["online"][name], tensor.numpy())
    assert mine["metadata"] == theirs["metadata"] and mine["epsilon"] == theirs["epsilon"]


def test_what_is_written_by_hand_torch_reads_back_exactly() -> None:
    rng = np.random.default_rng(0)
    state = {"format": "x", "n": 3, "big": 2**40, "neg": -7, "yes": True, "eps": 0.125, "text": "é ♪",
             "online": OrderedDict([("w", rng.normal(size=(4, 3)).astype(np.float32)),
                                    ("ids", np.arange(5, dtype=np.int64)), ("half", np.ones(2, np.float16))]),
             "empty": {}}
    buffer = io.BytesIO()
    torch_format.write(buffer, state)
    buffer.seek(0)
    back = torch.load(buffer, weights_only=True)
    for key in ("format", "n", "big", "neg", "yes", "eps", "text", "empty"):
        assert back[key] == state[key]
    for name, array in state["online"].items():
        assert np.array_equal(back["online"][name].numpy(), array) and back["online"][name].shape == array.shape
    buffer.seek(0)
    again = torch_format.read(buffer)
    assert all(np.array_equal(again["online"][k], v) for k, v in state["online"].items())


def test_a_file_naming_anything_else_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.pt"
    torch.save({"online": Exploit(marker)}, crafted)
    with pytest.raises(torch_format.FormatError, match="posix.system|os.system"):
        torch_format.read(crafted)
    assert not marker.exists()


def test_the_console_saves_a_model_training_loads_and_the_weights_agree(tmp_path: Path) -> None:
    playing, metadata = load_playing(default_model_path())
    assert playing is not None
    trained, _ = load_agent(default_model_path())
    rng = np.random.default_rng(1)
    obs, songs = rng.normal(size=24).astype(np.float32), rng.normal(size=(64, 23)).astype(np.float32)
    assert np.allclose(playing.q_values(obs, songs), trained.q_values(obs, songs), atol=1e-4)
    playing.set_output(playing.output() + 0.5)  # as the online update's refit does
    save_agent(playing, tmp_path / "model.pt", metadata)
    loaded, meta = load_agent(tmp_path / "model.pt")
    assert meta == metadata
    assert np.allclose(loaded.q_values(obs, songs), playing.q_values(obs, songs), atol=1e-4)
    assert not np.allclose(loaded.q_values(obs, songs), trained.q_values(obs, songs), atol=1e-2)


def test_a_session_plays_on_one_blas_thread(tmp_path: Path) -> None:
    # Its matrix products are small: a second thread made a reaction twenty times slower on a busy
    # machine (session/opening.py).
    from threadpoolctl import threadpool_info

    from tui_dj import open_session

    with open_session(data_dir=tmp_path, seed=0) as session:
        session.start()
        threads = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
        assert threads and set(threads) == {1}


def test_a_console_session_never_imports_torch(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from tui_dj import open_session\n"
        f"s = open_session(data_dir={str(tmp_path)!r}, seed=0)\n"
        "s.start(); s.react('like'); s.react('skip'); s.react('dislike'); s.undo(); s.close()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "HOME": str(tmp_path)})
    assert out.stdout.strip() == "False"
    assert (tmp_path / "profiles" / "default" / "model.pt").is_file()
