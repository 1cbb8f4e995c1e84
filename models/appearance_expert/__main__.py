"""``python -m models.appearance_expert``: the Appearance Expert's commands (train stages, animate, tiny model)."""

from models.appearance_expert.cli import appearance

if __name__ == "__main__":
    appearance(prog_name="python -m models.appearance_expert")
