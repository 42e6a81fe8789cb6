"""A new profile's replay buffer starts with simulated listening on the user's own catalog.

Every online update mixes the reaction just given with replayed transitions; without these, the
first few reactions would be replayed against each other alone and overwrite what the network
learned in training. The transitions come from the simulator's listeners (`listener.Listener`),
each with a hidden taste of its own, played by the agent itself through the DJ.
"""

from __future__ import annotations

import numpy as np

from tui_dj.config import EnvConfig
from tui_dj.learn.agent import DQNAgent
from tui_dj.learn.candidates import CandidateGenerator
from tui_dj.learn.policy import DQNPolicy
from tui_dj.learn.simulate import run_session
from tui_dj.learn.songs import SongTable


def warm_start(agent: DQNAgent, songs: SongTable, generator: CandidateGenerator, transitions: int,
               seed: int, config: EnvConfig | None = None) -> int:
    """Add about `transitions` simulated transitions to `agent.replay`; returns how many were added."""
    config = config or EnvConfig()
    policy = DQNPolicy(agent, mode="collect")
    added = 0
    seeds = np.random.SeedSequence(seed)
    while added < transitions:
        (child,) = seeds.spawn(1)
        added += len(run_session(songs, policy, generator, config, int(child.generate_state(1)[0])).outcomes)
    return added
