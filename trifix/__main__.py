"""`python -m trifix`: the same as the `trifix` command."""

from trifix.cli import main

if __name__ == "__main__":
    main()
