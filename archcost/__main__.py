"""``python -m archcost``: the same command line as ``archcost``."""

from .cli import main

if __name__ == "__main__":
    main()
