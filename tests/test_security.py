"""Hostile input: model files that would run code, profile names that would become paths, SQL built
from values, nonsense settings. Each is refused in one sentence and changes nothing on disk."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import tui_dj
from tests.clirun import run_cli
from tests.faults import Exploit, FaultySQLite
from tui_dj import open_session
from tui_dj.catalog import builtin_catalog, save_catalog
from tui_dj.config import AgentConfig
from tui_dj.learn.agent import DQNAgent
from tui_dj.learn.model_file import agent_state
from tui_dj.store import HistoryStore

PACKAGE = Path(tui_dj.__file__).parent
SMALL_TOML = """
checkpoint_every = 2
[agent]
hidden = 16
batch_size = 8
buffer_size = 500
candidates = 16
"""



def _one_sentence(code: int, stdout: str, stderr: str, *named: str) -> str:
    """Exit 1, no traceback, and stderr ends with one line `tui-dj: ...` (train says which catalog
    first); returns that line."""
    assert code == 1, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith("tui-dj: "), stderr
    assert sum(line.startswith("tui-dj: ") for line in lines) == 1, stderr
    for text in named:
        assert text in lines[-1], lines[-1]
    return lines[-1]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` with its size and mtime: what 'nothing changed' is compared on."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("security")
    save_catalog(builtin_catalog(150, seed=3), base / "cat")
    (base / "small.toml").write_text(SMALL_TOML)
    return base / "cat", base / "small.toml"


# --- 5. Model files are not code ------------------------------------------------------------------



def _crafted(path: Path, marker: Path, checkpoint: bool = False) -> Path:
    """A file that looks like a tui-dj model (or checkpoint) but carries code in its pickle."""
    state: dict[str, Any] = agent_state(DQNAgent(AgentConfig(hidden=16, candidates=16)), training=checkpoint)
    state["metadata"] = '{"episode": 2}'
    state["online"] = Exploit(marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    # The file really would run code if unpickled without restriction: prove it in a throwaway
    # interpreter, never in this one.
    return path


def test_a_crafted_pickle_really_runs_code_when_loaded_unsafely(tmp_path: Path) -> None:
    marker = tmp_path / "proof"
    crafted = _crafted(tmp_path / "crafted.pt", marker)
    subprocess.run([sys.executable, "-c", "import sys, torch; torch.load(sys.argv[1], weights_only=False)",
                    str(crafted)], check=False, capture_output=True, timeout=120)
    assert marker.exists(), "the exploit file is not an exploit: the tests below would prove nothing"


def test_evaluate_refuses_a_crafted_model(tmp_path: Path, files) -> None:
    catalog, _ = files
    marker = tmp_path / "pwned"
    crafted = _crafted(tmp_path / "crafted.pt", marker)
    line = _one_sentence(*run_cli("evaluate", "--catalog", catalog, "--model", crafted, "--sessions", "4",
                               "--seeds", "2", "--json", tmp_path / "e.json"), "crafted.pt")
    assert "not a tui-dj model" in line
    assert not marker.exists()
    assert not (tmp_path / "e.json").exists()


def test_train_resume_refuses_a_crafted_checkpoint(tmp_path: Path, files) -> None:
    catalog, config = files
    marker = tmp_path / "pwned"
    out = tmp_path / "run"
    crafted = _crafted(out / "dqn.checkpoint.pt", marker, checkpoint=True)
    before = crafted.read_bytes()
    line = _one_sentence(*run_cli("train", "--catalog", catalog, "--config", config, "--out", out, "--resume",
                               "--no-chart"), "dqn.checkpoint.pt")
    assert "not a tui-dj model" in line
    assert not marker.exists()
    assert crafted.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["dqn.checkpoint.pt"]


def test_session_refuses_a_crafted_profile_model(tmp_path: Path) -> None:
    """The profile's own model.pt (not only --model) is read safely too."""
    data = tmp_path / "data"
    marker = tmp_path / "pwned"
    open_session(catalog=builtin_catalog(150), profile="ana", data_dir=data, seed=0).close()
    _crafted(data / "profiles" / "ana" / "model.pt", marker)
    with pytest.raises(tui_dj.errors.TuiDjError, match="not a tui-dj model or is damaged"):
        open_session(catalog=builtin_catalog(150), profile="ana", data_dir=data, seed=0)
    assert not marker.exists()


def test_every_torch_load_is_weights_only() -> None:
    """No unrestricted unpickling anywhere in the package: torch.load always with weights_only=True,
    no dill/joblib, numpy never allows pickles; pickle only in the model file's reader, whose
    unpickler names nothing but plain values and tensors (tests/test_torch_format.py)."""
    reader = PACKAGE / "learn" / "torch_format.py"
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                forbidden = {"dill", "joblib", "cloudpickle", "shelve", "marshal"} | ({"pickle"} if path != reader else set())
                assert not forbidden & {n.split(".")[0] for n in names}, path
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = ast.unparse(node.func.value)
            keywords = {k.arg: k.value for k in node.keywords}
            if node.func.attr == "load" and owner == "torch":
                flag = keywords.get("weights_only")
                assert isinstance(flag, ast.Constant) and flag.value is True, f"{path}:{node.lineno}"
            if node.func.attr == "load" and owner in {"np", "numpy"}:
                flag = keywords.get("allow_pickle")
                assert isinstance(flag, ast.Constant) and flag.value is False, f"{path}:{node.lineno}"
            assert node.func.attr not in {"read_pickle", "loads"} or owner in {"json", "tomllib"}, f"{path}:{node.lineno}"
    source = reader.read_text(encoding="utf-8")
    assert "def find_class" in source and "raise FormatError" in source


# --- 6. Names become paths --------------------------------------------------------------------------

BAD_NAMES = ["../../etc", "a/b", "/etc", "..", "x" * 300, "a\x00b", "..\\..\\x", "-rf"]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("command", ["history", "export"])
def test_history_and_export_refuse_unsafe_profile_names(tmp_path: Path, command: str, name: str) -> None:
    data = tmp_path / "data"
    with HistoryStore.open(data) as store:
        store.start_session("ana", "builtin", "default")
    before = _tree(tmp_path)
    out = tmp_path / "liked.csv"
    extra = ["--out", str(out)] if command == "export" else []
    line = _one_sentence(*run_cli(command, "--profile", name, "--data-dir", data, *extra), "Profile name")
    assert "\x00" not in line and len(line) < 300
    assert _tree(tmp_path) == before  # nothing written anywhere: not outside, not inside


@pytest.mark.parametrize("name", ["../../etc", "a/b", "/tmp/x", "x" * 300, ".."])
def test_play_refuses_unsafe_profile_names(tmp_path: Path, name: str) -> None:
    """The console in a real process (no terminal): refused before any profile file is written."""
    data = tmp_path / "parent" / "data"
    data.mkdir(parents=True)
    before = _tree(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "tui_dj", "play", "--profile", name, "--data-dir", str(data)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    _one_sentence(proc.returncode, proc.stdout, proc.stderr, "Profile name")
    after = _tree(tmp_path)
    # Only the console's own log inside the data folder may appear; nothing outside it.
    new = set(after) - set(before)
    assert all(p.startswith("parent/data/logs") for p in new), new
    assert not (data / "profiles").exists()
    assert {k: v for k, v in after.items() if not k.startswith("parent/data")} == \
           {k: v for k, v in before.items() if not k.startswith("parent/data")}


# --- 8. Every database query takes its values as parameters -----------------------------------------

_SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES|PRAGMA|CREATE|DROP)\b")


def _is_sqlish(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and _SQL_WORDS.search(n.value)
               for n in ast.walk(node))


def _sql_problems(source: str) -> tuple[list[str], int]:
    """Where `source` builds SQL text out of anything but constants: (problems, WHERE splices seen).

    SQL is never %-formatted or .format()ted; an f-string or `+` that builds SQL only splices in the
    WHERE clauses, and every piece appended to those is a constant with `?` placeholders."""
    allowed_names = {"where", "w", "sql", "_SCHEMA"}
    problems: list[str] = []
    spliced = 0
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_sqlish(node.left):
            problems.append(f"line {line}: SQL built with %")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and _is_sqlish(node.func.value):
            problems.append(f"line {line}: SQL built with .format()")
        if isinstance(node, ast.JoinedStr | ast.BinOp | ast.AugAssign) and _is_sqlish(node):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            if names - allowed_names:
                problems.append(f"line {line}: SQL built from {sorted(names - allowed_names)}")
            spliced += bool(names & {"where", "w"})
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append" \
                and ast.unparse(node.func.value) == "where":
            arg = node.args[0]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                problems.append(f"line {line}: a WHERE clause built from a value")
    return problems, spliced


@pytest.mark.parametrize("bad", [
    "conn.execute(f\"SELECT * FROM events WHERE profile = '{profile}'\")",
    "conn.execute(\"DELETE FROM events WHERE uid = '\" + uid + \"'\")",
    "conn.execute(\"SELECT * FROM events WHERE kind = '%s'\" % kind)",
    "conn.execute(\"UPDATE events SET reverted = '{}'\".format(how))",
    "where.append(f\"profile = '{profile}'\")",
    "sql = 'SELECT 1 FROM events'\nsql += ' WHERE name = ' + repr(name)",
])
def test_the_sql_rule_catches_values_in_sql(bad: str) -> None:
    assert _sql_problems(bad)[0]


def test_sql_is_never_built_from_values() -> None:
    """Static: only the history (and the music scan's cache) talk to SQLite, and neither builds SQL
    text from values."""
    users = [p for p in PACKAGE.rglob("*.py")
             if re.search(r"^\s*(import|from) sqlite3", p.read_text(encoding="utf-8"), re.M)]
    names = {p.relative_to(PACKAGE).as_posix() for p in users}
    assert {"store/history.py", "store/records.py"} <= names <= {"store/history.py", "store/records.py",
                                                                  "catalog/music/cache.py"}, names
    for path in users:
        problems, _ = _sql_problems(path.read_text(encoding="utf-8"))
        assert problems == [], path
    _, spliced = _sql_problems((PACKAGE / "store" / "history.py").read_text(encoding="utf-8"))
    assert spliced >= 1  # the WHERE rule was exercised on the real file


def _exercise(data: Path, marker: str) -> list[str]:
    """Drive every store method with `marker` inside every value; return the SQL texts executed."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        faults = FaultySQLite(monkeypatch)
        _drive(data, marker)
    return faults.seen


def _drive(data: Path, marker: str) -> None:
    from dataclasses import replace

    store = HistoryStore.open(data)
    try:
        track = replace(builtin_catalog(20).track(3), track_id=f"id{marker}", name=f"n'{marker}\"",
                        artist=f"a;{marker}--", album=f"={marker}")
        session = store.start_session(f"p{marker}", f"c{marker}", f"m{marker}")
        for kind in ("play", "like", "skip", "dislike"):
            uid, _ = store.add_event(profile=f"p{marker}", session=session, kind=kind, track=track, reward=0.5)
        store.revert(uid)
        store.end_session(session)
        store.events(f"p{marker}", 10, session)
        store.events(None, 10, None, include_reverted=True)
        store.count(f"p{marker}", "like", session)
        store.count()
        store.disliked(f"p{marker}")
        store.recent_reactions(f"p{marker}")
        store.forgive(f"p{marker}", f"id{marker}")
        store.liked(f"p{marker}")
        store.sessions(f"p{marker}")
        store.sessions()
        store.profiles()
        assert store.integrity() == "ok"
    finally:
        store.close()


def test_sql_text_does_not_depend_on_values(tmp_path: Path) -> None:
    """Dynamic: the same calls with different values run exactly the same SQL texts, and no value
    ever appears inside one. That is what taking values as parameters means."""
    first = _exercise(tmp_path / "a", "XYZZY1'; DROP TABLE events; --")
    second = _exercise(tmp_path / "b", "QUUX2")
    assert first == second and len(first) >= 15
    assert not [s for s in first if "XYZZY" in s or "QUUX" in s or "DROP TABLE events" in s]


# --- 9. Config and options through `tui-dj train` -----------------------------------------------------

NONSENSE = [
    (("--batch-size", "-8"), "agent.batch_size"),
    (("--eps-decay", "2"), "agent.eps_decay"),
    (("--reward", "unknown"), "env.reward"),
    (("--lr", "inf"), "agent.lr"),
    (("--gamma", "-0.5"), "agent.gamma"),
    (("--buffer-size", "0"), "agent.buffer_size"),
    (("--hidden", "-1"), "agent.hidden"),
    (("--update-every", "0"), "agent.update_every"),
    (("--tau", "1.5"), "agent.tau"),
    (("--network", "transformer"), "agent.network"),
    (("--episodes", "-3"), "episodes"),
]
BAD_FILES = [
    ("episodes = = 3", "not valid TOML"),
    ("[agent\nlr = 1", "not valid TOML"),
    ("\x00\x01\x02", "not valid TOML"),
    ("agent = 5", "agent"),
    ("[agent]\neps_start = 1.5\n", "agent.eps_start"),
    ("[agent]\nbatch_size = \"big\"\n", "batch_size"),
    ("[env]\nreward = \"vibes\"\n", "env.reward"),
    ("[agent]\nlearning_rate = 0.1\n", "learning_rate"),
    ("episodes = 1e400\n", "episodes"),
]


@pytest.fixture()
def trained(tmp_path: Path, files) -> tuple[Path, dict[str, tuple[int, int]]]:
    """A finished run whose files must come through every refused command untouched."""
    catalog, config = files
    out = tmp_path / "run"
    code, _, stderr = run_cli("train", "--catalog", catalog, "--config", config, "--out", out, "--episodes", "2",
                           "--no-chart")
    assert code == 0, stderr
    return out, _tree(out)


@pytest.mark.parametrize(("flags", "named"), NONSENSE)
def test_train_refuses_nonsense_options(tmp_path: Path, files, trained, flags: tuple[str, ...], named: str) -> None:
    catalog, _ = files
    out, before = trained
    _one_sentence(*run_cli("train", "--catalog", catalog, "--out", out, "--resume", "--no-chart", *flags), named)
    _one_sentence(*run_cli("train", "--catalog", catalog, "--out", tmp_path / "new", "--no-chart", *flags), named)
    assert _tree(out) == before
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("text", "named"), BAD_FILES)
def test_train_refuses_a_malformed_config_file(tmp_path: Path, files, trained, text: str, named: str) -> None:
    catalog, _ = files
    out, before = trained
    bad = tmp_path / "bad.toml"
    bad.write_bytes(text.encode())
    line = _one_sentence(*run_cli("train", "--catalog", catalog, "--config", bad, "--out", out, "--resume",
                               "--no-chart"), named)
    assert len(line) < 400
    assert _tree(out) == before
