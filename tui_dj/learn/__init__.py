"""Learning: the simulated listener (a Gymnasium Env), the DQN agent, baselines, train and evaluate.

Import the submodules directly (`tui_dj.learn.agent` pulls in torch; the others do not).
"""
