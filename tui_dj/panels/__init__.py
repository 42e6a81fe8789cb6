"""Listener panels: simulated people, real playlists and listener families, each listening through
the session API, the same path the console takes, to measure how well a policy learns a person.

`personas.personas(catalog)`, `playlists.tidytuesday_playlists(...)` and `families.family_listeners(...)` build
the listeners; `run.run_panel` plays them, `run.summarise` and `families.summarise_families` turn
the sessions into the panel's figures.
"""
