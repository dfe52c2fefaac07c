"""Development tooling of the stability.ops collection (never shipped in the tarball)."""
