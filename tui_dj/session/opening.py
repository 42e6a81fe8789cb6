"""Opening a session: the catalog, the model (the profile's own, else the shipped one), the lock,
the history, and a DJ that continues where the profile left off."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tui_dj.atomic import remove_leftovers
from tui_dj.catalog import Catalog, builtin_catalog, load_catalog
from tui_dj.errors import TuiDjError
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.dj import DJ, NO_REPEAT
from tui_dj.learn.model_file import default_model_path, load_agent, load_playing
from tui_dj.learn.online import OutputRefit
from tui_dj.learn.playing import PlayingAgent
from tui_dj.learn.policy import DQNPolicy, Policy
from tui_dj.learn.simulate import Streams
from tui_dj.learn.songs import SongTable
from tui_dj.learn.trace import SessionTrace
from tui_dj.paths import data_dir as resolve_data_dir
from tui_dj.session.caches import cache_folders, candidate_generator, file_hash, warm_replay
from tui_dj.session.saving import AUTOSAVE_S
from tui_dj.session.session import Session
from tui_dj.store import HistoryStore, ProfileLock, ProfilePaths, profile_paths

if TYPE_CHECKING:  # torch: only a network that learns by gradient steps while playing needs it
    from tui_dj.learn.agent import DQNAgent

# The online update of the per-song network (the original design), which has no one output
# layer to refit: a gradient step per reaction on a small batch holding the new transition and
# replayed ones, at a fifth of the training rate. The feature network refits its output layer
# instead (learn/online.py).
UPDATE_STEPS = 1
ONLINE_BATCH = 16
ONLINE_LR = 1e-4
REPLAY_CAPACITY = 5_000  # the session's replay buffer; a full one keeps memory flat
WARM_START = 512  # simulated transitions a profile's replay starts with (see learn/warm_start.py)
RESUME_REACTIONS = 10  # a reopened profile's trace starts from its latest reactions


class SessionPolicy(DQNPolicy):
    """The DQN as the console runs it: greedy on its Q-values, learning online from every reaction
    (`learn_online=False`: not at all, the ablation the panels report beside it).

    No ε: the network was trained to explore through its inputs (how much is known around each
    song), and random picks on top measured worse on the persona panel (the classical persona's
    like rate over songs 21-60 was 0.03 with ε 0.3 and 1.0 without)."""

    def __init__(self, agent: DQNAgent | PlayingAgent, learn_online: bool = True) -> None:
        super().__init__(agent, mode="online" if learn_online else "frozen", steps=UPDATE_STEPS,
                         batch=ONLINE_BATCH, lr=ONLINE_LR)
        self.refit = OutputRefit(agent) if learn_online and isinstance(agent, PlayingAgent) else None

    def learn(self, t: Any) -> float | None:
        if self.refit is None:
            return super().learn(t)
        if t.state is None or t.encoding is None:
            return None
        return self.refit.learn(t.state, t.encoding, t.reward, t.next_state, t.next_encodings, t.done)

    def snapshot(self) -> Any:
        return super().snapshot(), None if self.refit is None else self.refit.snapshot()

    def restore(self, snapshot: Any) -> None:
        super().restore(snapshot[0])
        if self.refit is not None:
            self.refit.restore(snapshot[1])


def _load_catalog(catalog: None | str | Path | Catalog) -> tuple[Catalog, Path | None]:
    """The catalog, and the folder it was read from (None: built in, or handed over in memory)."""
    if catalog is None:
        return builtin_catalog(), None
    if isinstance(catalog, Catalog):
        return catalog, None
    return load_catalog(Path(catalog)), Path(catalog)


def _load_model(model: None | str | Path, paths: ProfilePaths, n_songs: int, seed: int | None,
                ) -> tuple[DQNAgent | PlayingAgent, dict[str, Any], str]:
    """The agent: the given file, else the profile's own, else the shipped default model. The
    feature network plays in numpy (`PlayingAgent`); only the networks that learn by gradient
    steps while playing bring torch in."""
    if model is not None:
        source = Path(model)
    elif paths.model.is_file():
        source = paths.model
    else:
        source = default_model_path()
    if model is None and not source.is_file():
        # No shipped model in this checkout: an untrained network still learns from the keys.
        from tui_dj.learn.agent import DQNAgent

        _torch_for_session(seed)
        return PlayingAgent.from_network(DQNAgent(seed=seed or 0)), {}, "untrained"
    playing, metadata = load_playing(source)
    if playing is not None:
        return playing, metadata, str(source)
    _torch_for_session(seed)
    agent, metadata = load_agent(source, n_songs=n_songs, seed=seed or 0)
    return agent, metadata, str(source)


def _one_blas_thread() -> None:
    """The network plays in numpy: small matrix products that a second BLAS thread only slows
    down (measured on a busy two-core machine: 1.3 ms for one 64x128 by 128x128 product with
    OpenBLAS's threads, 0.03 ms with one; `python -m benchmarks --quick --only bench_session`: a
    reaction's p50 150 ms with them, 6.6 ms with one). Process-wide, as torch's thread count was
    before: a session runs in a process that does little else."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _torch_for_session(seed: int | None) -> None:
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    # The session's network is tiny: extra intra-op threads only add hand-off latency (measured
    # 3-8x slower updates with two threads on a busy two-core machine).
    torch.set_num_threads(1)


def _warm_start(agent: DQNAgent, metadata: dict[str, Any], source: str, songs: SongTable,
                generator: CandidateGenerator, catalog: Catalog, seed: int | None, folders: list[Path]) -> None:
    """The replay's warm start, played by the model the profile started from (so that it is made
    once per model, not again after every save of the profile's own), else by this agent. Only the
    per-song network's online update replays (an untrained network is a feature network, whose
    output layer is refit instead), so the model is always a file."""
    base = Path(str(metadata.get("base_model", source)))
    player = base if base != Path(source) and base.is_file() else Path(source)
    try:
        digest = file_hash(player)
    except OSError:
        player, digest = Path(source), file_hash(Path(source))

    def load_player() -> DQNAgent:
        if player == Path(source):
            return agent
        try:
            return load_agent(player, n_songs=len(catalog), seed=seed or 0)[0]
        except TuiDjError:  # the base model moved on or broke: this agent plays its warm start
            return agent

    warm_replay(agent, songs, generator, WARM_START, digest, load_player, catalog, folders)


@contextlib.contextmanager
def _cleanup_on_error() -> Iterator[list[Any]]:
    with contextlib.ExitStack() as stack:
        closers: list[Any] = []
        try:
            yield closers
        except BaseException:
            for close in reversed(closers):
                stack.callback(close)
            raise


def _resume_trace(store: HistoryStore, profile: str, catalog: Catalog, songs: SongTable) -> tuple[SessionTrace, list[int]]:
    """A reopened profile continues: its latest reactions shape the taste, its latest plays wait."""
    trace = SessionTrace(prior=songs.prior)
    ids = catalog.tracks["track_id"]
    recent = store.recent_reactions(profile, RESUME_REACTIONS)
    rows = {str(ids.iloc[i]): int(i) for i in np.flatnonzero(ids.isin([t for t, _ in recent]).to_numpy())}
    for track_id, reaction in recent:
        if track_id in rows:
            i = rows[track_id]
            trace.record(i, songs.features[i], int(songs.artists[i]), reaction)
    played = [e.track_id for e in store.events(profile, NO_REPEAT) if e.kind == "play"]
    return trace, [int(i) for i in np.flatnonzero(ids.isin(played).to_numpy())]


def open_session(
    catalog: None | str | Path | Catalog = None,
    model: None | str | Path = None,
    profile: str = "default",
    data_dir: None | str | Path = None,
    seed: int | None = None,
    read_only: bool = False,
    on_locked: Literal["read-only", "refuse"] = "read-only",
    autosave_s: float = AUTOSAVE_S,
    policy: Policy | None = None,
    exclude: list[str] | None = None,
    online_update: bool = True,
) -> Session:
    """Open a listening session (see the README); raises `TuiDjError` with one sentence.

    A profile already open in another console is opened read-only (`session.notice` says so), or
    refused with `on_locked="refuse"`. `policy` replaces the DQN (the listener panels run the
    baselines through here); `exclude` keeps songs (track ids) out of what can play;
    `online_update=False` keeps the network as it was loaded (the ablation the panels report).
    Opening a session limits numpy's BLAS to one thread in this process (`_one_blas_thread`).
    """
    base = resolve_data_dir(data_dir)
    paths = profile_paths(base, profile)  # refuses unsafe names before anything is written
    _one_blas_thread()
    cat, catalog_dir = _load_catalog(catalog)
    folders = cache_folders(base, catalog_dir)
    notice = None
    lock: ProfileLock | None = None
    with _cleanup_on_error() as closers:
        if not read_only:
            lock = ProfileLock(paths.lock)
            if lock.acquire():
                closers.append(lock.release)
                remove_leftovers(paths.model)  # a killed save's temporary file; the lock makes it ours
            else:
                holder = lock.holder()
                who = f" (process {holder})" if holder.isdigit() else ""
                message = f"Profile {profile!r} is open in another tui-dj{who}"
                if on_locked == "refuse":
                    raise TuiDjError(message + "; close it first, or open this one read-only.")
                notice = message + "; this console is read-only: it learns, but saves nothing."
                read_only, lock = True, None
        songs = SongTable.from_catalog(cat)
        store = HistoryStore.open(base, read_only=read_only)
        closers.append(store.close)
        streams = Streams.spawn(seed if seed is not None else int(np.random.SeedSequence().generate_state(1)[0]))
        agent: DQNAgent | PlayingAgent | None = None
        metadata: dict[str, Any] = {}
        source = "none"
        if policy is None:
            agent, metadata, source = _load_model(model, paths, len(cat), seed)
            agent.rng = np.random.default_rng(streams.policy.integers(2**63))
        k = agent.config.candidates if agent is not None else 64
        generator = candidate_generator(cat, k, folders)
        if agent is not None:
            policy = SessionPolicy(agent, learn_online=online_update)
            if policy.refit is None and online_update and not isinstance(agent, PlayingAgent):
                # The gradient step mixes each reaction with replayed experience: start the replay
                # with simulated listening on this catalog.
                agent.new_replay(REPLAY_CAPACITY)
                _warm_start(agent, metadata, source, songs, generator, cat, seed, folders)
        assert policy is not None
        trace, recent = _resume_trace(store, profile, cat, songs)
        banned = set(np.flatnonzero(cat.tracks["track_id"].isin(list(store.disliked(profile)) + list(exclude or []))
                                    .to_numpy()).tolist())
        dj = DJ(songs, policy, generator, streams.candidates, trace, banned=banned, recent=recent,
                policy_rng=streams.policy, steady=True)
        session = Session(cat, dj, agent=agent, metadata=metadata, profile=profile, paths=paths, store=store,
                          lock=lock, read_only=read_only, model_source=source, notice=notice,
                          autosave_s=autosave_s)
    if store.warning and session.notice is None:
        session.notice = store.warning
    return session
