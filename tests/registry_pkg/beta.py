from tests.registry_pkg import Thing

BETA = Thing("beta", 2)
