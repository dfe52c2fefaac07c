"""The hostile corpus of the secrets preflight: built at test time by ``build``."""
