"""What many tests share: real git repositories (`tests.support.git`) and models scripted on a
loopback fake (`tests.support.models`). The fakes themselves live in `tests.fakes`."""
