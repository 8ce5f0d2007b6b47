"""`python -m orchestrator.cli` runs the `instep` command (used where the script is not on PATH)."""

from orchestrator.cli import main

if __name__ == "__main__":
    main()
