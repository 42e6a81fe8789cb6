"""Listener panels: simulated people and real playlists, each listening through the session API,
the same path the console takes, to measure how well a policy learns a person.

`personas.personas(catalog)` and `playlists.playlists(...)` build the listeners; `run.run_panel`
plays them and `run.summarise` turns the sessions into the panel's figures.
"""
