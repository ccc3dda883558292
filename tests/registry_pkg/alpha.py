from tests.registry_pkg import Thing

ALPHA = Thing("alpha", 1)
SIZE = 1  # not a Thing: not collected
