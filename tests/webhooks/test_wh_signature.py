from webhooks.signature import sign, verify

SECRET = b"It's a Secret to Everybody"
VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_published_vector() -> None:
    assert sign(SECRET, b"Hello, World!") == VECTOR
    assert verify(SECRET, b"Hello, World!", VECTOR)


def test_rejects_other_body_other_secret_and_malformed_headers() -> None:
    assert not verify(SECRET, b"Hello, World?", VECTOR)
    assert not verify(b"another secret", b"Hello, World!", VECTOR)
    assert not verify(SECRET, b"Hello, World!", None)
    assert not verify(SECRET, b"Hello, World!", "")
    assert not verify(SECRET, b"Hello, World!", VECTOR.replace("sha256=", "sha1="))
    assert not verify(SECRET, b"Hello, World!", VECTOR[:-2])
    assert not verify(SECRET, b"Hello, World!", VECTOR[:-1] + "\u00e9")
    assert not verify(b"", b"Hello, World!", sign(b"", b"Hello, World!"))  # no secret: never valid
