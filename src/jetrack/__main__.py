"""`python -m jetrack` runs the CLI."""

from jetrack.cli import main

main()
