from tui_dj.cli import main

main()
