from tests.registry_pkg import Thing

IGNORED = Thing("ignored", 9)  # a module starting with '_' is not an entry
