"""GitHub adapter: the CodeHost port, its PyGithub implementation, publishing, the Action."""
