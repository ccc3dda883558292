"""``python -m review`` runs the command line."""

from review.cli import main

main()
