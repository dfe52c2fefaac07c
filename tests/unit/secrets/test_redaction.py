"""The redaction layer: sops' and PyYAML's texts keep their reason and lose their values."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_preflight as sp
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_redaction as red
from ansible_collections.stability.ops.plugins.plugin_utils import sops_files
from stability_ops_dev.testing import secrets as lib

CANARY = "Cz9f1aQ7B2C3-redactVw"


def test_sops_plaintext_value_is_named_not_printed(material, tmp_path):
    path = tmp_path / "x.sops.yml"
    path.write_text(f"extra: {CANARY}\n" + material.sops_text)
    runner = sops_files.SopsRunner(binary=lib.SOPS, age_key_file=str(material.key.path))
    with pytest.raises(sops_files.SopsError) as caught:
        runner.decrypt(path)
    assert CANARY not in str(caught.value) and CANARY not in caught.value.reason
    assert "not valid SOPS data" in str(caught.value)


def test_sops_missing_key_keeps_the_whole_hint(material, tmp_path):
    path = tmp_path / "x.sops.yml"
    path.write_text(material.sops_text)
    env = {k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"}
    proc = subprocess.run([lib.SOPS, "--decrypt", str(path)], capture_output=True, env={**env, "HOME": str(tmp_path)},
                          check=False)
    assert proc.returncode != 0
    text = red.redact_sops_stderr(proc.stderr, "x.sops.yml")
    assert text.startswith("x.sops.yml: ")
    for part in ("Group 0: FAILED", "SOPS_AGE_KEY_FILE", material.key.public, "but none were."):
        assert part in text


@pytest.mark.parametrize("stderr", [
    f"Error decrypting tree: Input string {CANARY} does not match sops' data format",
    f"Input string {CANARY}\nsecond line {CANARY} does not match sops' data format",
    f"yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `{CANARY}` into int",
    f"MAC mismatch. File has {'ab' * 32}, computed {'cd' * 32}",
    f"could not decrypt '{CANARY}'",
    b"Error: \"" + CANARY.encode() + b"\"",
], ids=["input-string", "multiline-input-string", "backticks", "mac-hex", "single-quoted", "bytes"])
def test_sops_values_are_removed(stderr):
    text = red.redact_sops_stderr(stderr)
    assert CANARY not in text and "ab" * 16 not in text
    assert text


@pytest.mark.parametrize("document", [
    f"a: [1, 2\npassword: {CANARY}\n", f"a:\n\tpassword: {CANARY}\n", f"x: !!python/object:os.system '{CANARY}'\n",
    f"x: \"unterminated {CANARY}\n", f"- a\nb: {CANARY}\n",
], ids=["flow", "tab", "python-tag", "unterminated", "mixed"])
def test_yaml_errors_give_place_not_snippet(document):
    with pytest.raises(yaml.YAMLError) as caught:
        sp.load_vars_text(document)
    text = red.redact_yaml_error(caught.value, "gv/main.yml")
    assert text.startswith("gv/main.yml:") and CANARY not in text


def test_safe_exception_is_type_and_line_only():
    with pytest.raises(ValueError) as caught:
        int(CANARY)
    text = red.safe_exception(caught.value, "f.yml")
    assert text == "f.yml: unexpected ValueError"


@pytest.mark.parametrize(("parts", "shown"), [
    (["api_tokens", CANARY], "api_tokens.<redacted key>"),
    (["api_tokens", "ci"], "api_tokens.ci"),
    (["users", "alice", 0, "name"], "users.alice[0].name"),
    (["owners", "AKIAABCDEFGHIJKLMNOP"], "owners.<redacted key>"),
    (["db", "postgres://u:pw@h/x"], "db.<redacted key>"),
    (["secrets", "db"], "secrets.db"),
    (["tokens", "0123456789abcdef0123"], "tokens.<redacted key>"),
])
def test_display_key(parts, shown):
    assert red.display_key(parts, sp.is_secret_key) == shown
