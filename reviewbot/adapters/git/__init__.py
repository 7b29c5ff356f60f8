"""The git adapter: one hardened way to run git (`runner`), and repositories read as data (`workspace`)."""
