"""reviewbot's tests. Every test directory is a package, so helpers are imported by their full name
(`from tests.support.git import git`) whatever directory pytest (importlib mode) is started from."""
