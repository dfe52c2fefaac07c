"""Build the hostile corpus of the secrets preflight with real sops, age, gpg and
ansible-core's vault: one directory per case (a user's repository with an
``inv/`` inventory), each with its expected verdict and the canaries that no
output may contain.

Imported by the unit corpus test; run as a script by the integration test:
``python tests/unit/secrets/corpus/build.py OUTDIR`` writes the cases and
``OUTDIR/manifest.json``. Nothing is committed: keys and ciphertext are made here.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ansible.parsing.vault import VaultLib, VaultSecret
from stability_ops_dev.testing import secrets as lib

GV = "inv/group_vars/all"
HV = "inv/host_vars"
SOPS_RULE = r"\.sops\.(ya?ml|json)$"
# An RSA key body is never generated for real: the rules look at the armour and the base64 line after it (a bare
# armour line, as in documentation, is no key); the canary is the rest of the body.
PEM = ("-----BEGIN {kind}PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQ\n{body}\n"
       "-----END {kind}PRIVATE KEY-----\n")


@dataclass
class Material:
    """Session keys: age A is in every .sops.yaml, age B is not; a throwaway gpg key."""

    key: lib.AgeKey
    other_key: lib.AgeKey
    password_file: Path
    gnupghome: Path
    pgp_fp: str

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOPS_AGE_KEY_FILE": str(self.key.path), "GNUPGHOME": str(self.gnupghome)}

    def vault(self, plaintext: str, vault_id: str | None = None) -> str:
        secret = VaultSecret(self.password.encode())
        return VaultLib([(vault_id or "default", secret)]).encrypt(plaintext, secret=secret, vault_id=vault_id).decode()

    def sops(self, root: Path, rel: str, plaintext: str, *flags: str, config: str | None = None,
             input_type: str = "yaml") -> str:
        """Encrypt with the real sops: by the case's .sops.yaml (or ``config`` text), or explicit flags."""
        flags = tuple(f.format(age=self.key.public, other=self.other_key.public, pgp=self.pgp_fp) for f in flags)
        args = [lib.SOPS]
        if not flags:
            cfg = root / ".sops.yaml"
            if config is not None:
                cfg = root.parent / f"{root.name}-alt.sops.yaml"
                cfg.write_text(config)
            args += ["--config", str(cfg)]
        args += ["--encrypt", *flags, "--input-type", input_type, "--output-type", input_type,
                 "--filename-override", str(root / rel), "/dev/stdin"]
        proc = subprocess.run(args, input=plaintext.encode(), capture_output=True, check=True, env=self.env())
        return proc.stdout.decode()


def make_material(directory: Path) -> Material:
    directory.mkdir(parents=True, exist_ok=True)
    # gpg-agent's socket path must fit in 108 bytes, which pytest's tmp paths under xdist
    # (.../popen-gw1/<test name>/...) do not: a short directory of its own, removed at exit.
    gnupghome = Path(tempfile.mkdtemp(prefix="corpus-gpg-"))
    atexit.register(shutil.rmtree, gnupghome, ignore_errors=True)
    env = {**os.environ, "GNUPGHOME": str(gnupghome)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "corpus <corpus@example.invalid>",
                    "default", "default", "never"], check=True, capture_output=True, env=env)
    listing = subprocess.run(["gpg", "--list-keys", "--with-colons"], check=True, capture_output=True, text=True,
                             env=env).stdout
    fp = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, env=env, check=False)
    return Material(key=lib.make_age_key(directory / "age", "a.txt"),
                    other_key=lib.make_age_key(directory / "age", "b.txt"),
                    password_file=lib.write_password_file(directory / "vault"), gnupghome=gnupghome, pgp_fp=fp)


def canary(case_id: str, n: int = 0) -> str:
    """A unique, secret-looking value per case (mixed case and digits, no base64 length)."""
    digest = hashlib.sha256(f"{case_id}/{n}".encode()).hexdigest()
    return f"Cz{digest[:5]}Q{digest[5:10].upper()}-k{n}Vw"


def canary_int(case_id: str) -> int:
    return 830_000_000 + int(hashlib.sha256(case_id.encode()).hexdigest()[:6], 16) % 100_000_000


@dataclass
class Case:
    id: str
    expect: tuple[str, ...]  # rule names, empty: the case must pass
    build: Callable  # (material, root, canary) -> None; writes under root
    paths: tuple[str, ...] = ("inv/group_vars",)
    decrypt: bool = False
    options: dict = field(default_factory=dict)
    canaries: list[str] = field(default_factory=list)


def w(root: Path, rel: str, content: str | bytes) -> None:
    lib.write(root, rel, content)


def sops_config(m: Material, *, extra: str = "", age: str | None = None, pgp: bool = False) -> str:
    lines = ["creation_rules:", f"  - path_regex: {SOPS_RULE}", f"    age: \"{age or m.key.public}\""]
    if pgp:
        lines.append(f"    pgp: \"{m.pgp_fp}\"")
    return "\n".join(lines) + "\n" + extra


def git_commit(root: Path, *rels: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for cmd in (["init", "-q"], ["add", *rels], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env, capture_output=True)


def vault_tampered(text: str) -> str:
    header, *body = text.strip().splitlines()
    salt, hmac, ciphertext = bytes.fromhex("".join(body)).decode().split("\n")
    ciphertext = ("a" if ciphertext[0] != "a" else "b") + ciphertext[1:]
    outer = "\n".join([salt, hmac, ciphertext]).encode().hex()
    return header + "\n" + "\n".join(outer[i: i + 80] for i in range(0, len(outer), 80)) + "\n"


def non_hex(envelope: str) -> str:
    return envelope[:60] + "zz" + envelope[62:]


def inline(key: str, envelope: str) -> str:
    return f"{key}: !vault |\n" + "\n".join("  " + line for line in envelope.strip().splitlines()) + "\n"


def drop_line(text: str, prefix: str) -> str:
    kept = [line for line in text.splitlines() if not line.startswith(prefix)]
    assert len(kept) < len(text.splitlines()), prefix
    return "\n".join(kept) + "\n"


def drop_block(text: str, start: str) -> str:
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith(start):
            skipping = True
            continue
        if skipping and line.startswith(" " * (len(start) - len(start.lstrip()) + 2)):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


def sops_tampered(text: str, key: str) -> str:
    line = next(li for li in text.splitlines() if li.startswith(f"{key}: ENC["))
    data = line.split("data:", 1)[1].split(",", 1)[0]
    return text.replace(line, line.replace(f"data:{data},", f"data:{'A' if data[0] != 'A' else 'B'}{data[1:]},"))


def age_secret_text(m: Material, key: lib.AgeKey | None = None) -> str:
    return (key or m.key).private_text


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ the cases

def _plain(rel: str, template: str) -> Callable:
    """A plain file; ``{c}``, ``{c1}``... and ``{n}`` (an int) are the case's canaries."""
    def build(m, root, c):
        text = template
        for token, value in (("{c}", c(0)), ("{c1}", c(1)), ("{c2}", c(2)), ("{n}", str(c.int))):
            text = text.replace(token, value)
        w(root, rel, text)
    return build


GOOD_PLAIN = """\
region: eu-west
password_min_length: 14
token_ttl: 3600
ssh_public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDx3v0B6ZyDrxw0n1p8Yt2k9cS5M7o1aF5fZ0bq3QwYd ops@example
tls_key_file: /etc/ssl/private/web.key
key_name: deploy
keyboard_layout: us
host_fingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
gpg_fingerprint: A784E582822279ED17D97793D6A7E2DE16E8946C
artifact_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
use_password: true
empty_token: ""
db_password: "{{ vault_db_password }}"
api_token: "{{ lookup('ansible.builtin.env', 'API_TOKEN') }}"
admin_password: "{{ vault_admin | default(omit) }}"
service_url: https://api.example.com/v1/items?page=2
backup_url: "postgres://app:{{ vault_db_password }}@db.example.com:5432/app"
ssh_user_url: ssh://deploy@git.example.com/repo.git
db_port: 5432
"""

PUBLIC_MATERIAL = """\
tls_certificate: |
  -----BEGIN CERTIFICATE-----
  MIIBszCCAVmgAwIBAgIUGqJvN0Yq1mLkCeUj9p4yzXbK2jYwCgYIKoZIzj0EAwIw
  -----END CERTIFICATE-----
ssh_host_key_algorithms: [ssh-ed25519]
ssh_authorized_key: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 admin@example
public_key: age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg
motd: !unsafe "{{ shown literally }}"
"""


def build_cases() -> list[Case]:
    cases: list[Case] = []

    def add(case_id, expect, build, **kw):
        cases.append(Case(case_id, tuple(expect), build, **kw))

    # --- good files: they must pass, so the corpus cannot pass by failing everything
    add("pass-plain-settings", [], _plain(f"{GV}/main.yml", GOOD_PLAIN))
    add("pass-public-material", [], _plain(f"{GV}/main.yml", PUBLIC_MATERIAL))
    add("pass-comments-only", [], _plain(f"{GV}/main.yml", "# nothing yet\n---\n"))
    add("pass-null-and-empty-secrets", [], _plain(f"{GV}/main.yml", "db_password:\napi_token: ''\npasswords: []\n"))
    add("pass-tagged-non-secret", [], _plain(f"{GV}/main.yml", 'port: !!int "5432"\nratio: !!float 0.5\n'))
    add("pass-anchors-and-merge", [], _plain(f"{GV}/main.yml",
                                             "base: &b {region: eu, size: 2}\nweb: {<<: *b, size: 3}\n"))
    add("pass-host-vars-without-extension", [], _plain(f"{HV}/db1.example.com", "region: eu\n"),
        paths=("inv/host_vars/db1.example.com",))
    add("pass-secret-key-ignored-by-regex", [], _plain(f"{GV}/main.yml", "license_key: {c}\n"),
        options={"secret_key_ignore_regex": "^license_key$"})
    add("pass-vault-file-1.1", [], lambda m, r, c: w(r, f"{GV}/vault.yml", m.vault(f"db_password: {c(0)}\n")),
        decrypt=True)
    add("pass-vault-file-1.2", [], lambda m, r, c: w(r, f"{GV}/vault.yml", m.vault(f"db_password: {c(0)}\n", "lab")),
        decrypt=True)
    add("pass-inline-vault", [], lambda m, r, c: w(r, f"{GV}/main.yml", inline("db_password", m.vault(c(0)))),
        decrypt=True)
    add("pass-json-inline-vault", [], lambda m, r, c: w(r, f"{GV}/main.json", json.dumps(
        {"db_password": {"__ansible_vault": m.vault(c(0))}, "region": "eu"})), decrypt=True)
    add("pass-sops-age", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.yml", m.sops(
        r, f"{GV}/secrets.sops.yml", f"db_password: {c(0)}\napi_token: {c(1)}\nport: 5432\n")), decrypt=True)
    add("pass-sops-json", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.json", m.sops(
        r, f"{GV}/secrets.sops.json", json.dumps({"db_password": c(0)}), input_type="json")), decrypt=True)
    add("pass-sops-unencrypted-suffix", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.yml", m.sops(
        r, f"{GV}/secrets.sops.yml", f"db_password: {c(0)}\nnote_unencrypted: lab database\n")), decrypt=True)
    add("pass-sops-encrypted-regex-leaves-region", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.yml", m.sops(
        r, f"{GV}/secrets.sops.yml", f"region: eu-west\ndb_password: {c(0)}\nnested:\n  api_token: {c(1)}\n")),
        decrypt=True, options={"rule_extra": "    encrypted_regex: ^(db_password|api_token)$\n"})
    add("pass-sops-pgp-and-age", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.yml", m.sops(
        r, f"{GV}/secrets.sops.yml", f"db_password: {c(0)}\n")), decrypt=True, options={"pgp": True})
    add("pass-sops-key-groups", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.yml", m.sops(
        r, f"{GV}/secrets.sops.yml", f"db_password: {c(0)}\n")), decrypt=True,
        options={"config_text": "creation_rules:\n  - path_regex: {rule}\n    key_groups:\n      - age:\n"
                                "          - {age}\n"})
    add("pass-sops-mac-only-encrypted", [], lambda m, r, c: w(r, f"{GV}/secrets.sops.yml", m.sops(
        r, f"{GV}/secrets.sops.yml", f"db_password: {c(0)}\n")), decrypt=True,
        options={"rule_extra": "    mac_only_encrypted: true\n"})

    # --- key names the heuristic must see
    for case_id, key in [("pw-ldap-bind-pw", "ldap_bind_pw"), ("pw-db-password2", "db_password2"),
                         ("pw-camel-DBPassword", "DBPassword"), ("pw-password-postgres", "password_postgres"),
                         ("pw-secret-key-base", "secret_key_base"), ("pw-mysql-root-pwd", "mysql_root_pwd"),
                         ("pw-redis-pass", "redis_pass"), ("pw-smtp-passwd", "smtp_passwd"),
                         ("pw-oauth-client-secret", "oauth_client_secret"),
                         ("pw-django-secret-key", "django_secret_key"),
                         ("pw-aws-secret-access-key", "awsSecretAccessKey"),
                         ("pw-env-style-PGPASSWORD", "PGPASSWORD"),
                         ("pw-wifi-psk", "wifi_psk"), ("pw-session-cookie", "session_cookie"),
                         ("pw-totp-seed", "totp_seed"), ("pw-api-key", "api_key"),
                         ("pw-private-key-name", "private_key"),
                         ("pw-backup-passphrase", "backup_passphrase"), ("pw-smtp-creds", "smtp_creds"),
                         ("pw-vault-prefixed-plaintext", "vault_db_password")]:
        add(case_id, ["plaintext-secret"], _plain(f"{GV}/main.yml", f"region: eu\n{key}: {{c}}\n"))
    add("pw-nested-camel-token", ["plaintext-secret"],
        _plain(f"{GV}/main.yml", "app:\n  settings:\n    apiToken: {c}\n"))
    add("pw-list-under-secret-key", ["plaintext-secret"], _plain(f"{GV}/main.yml", "api_keys:\n  - {c}\n  - {c1}\n"))
    add("pw-children-of-secrets-map", ["plaintext-secret"], _plain(f"{GV}/main.yml", "secrets:\n  db: {c}\n"))
    add("pw-credentials-per-user", ["plaintext-secret"], _plain(f"{GV}/main.yml", "user_credentials:\n  alice: {c}\n"))
    add("pw-integer-pin", ["plaintext-secret"], _plain(f"{GV}/main.yml", "admin_pin: {n}\n"))
    add("pw-json-file", ["plaintext-secret"], lambda m, r, c: w(
        r, f"{GV}/main.json", json.dumps({"smtp_password": c(0)})))
    add("pw-host-vars", ["plaintext-secret"], _plain(f"{HV}/web1.yml", "root_passphrase: '{c}'\n"),
        paths=("inv/host_vars",))
    add("pw-host-vars-no-extension", ["plaintext-secret"], _plain(f"{HV}/db1.example.com", "db_password: {c}\n"),
        paths=("inv/host_vars/db1.example.com",))
    add("pw-multiline-block", ["plaintext-secret"], _plain(f"{GV}/main.yml", "db_password: |\n  {c}\n  {c1}\n"))
    add("pw-quoted-with-spaces", ["plaintext-secret"], _plain(f"{GV}/main.yml", 'db_password: "  {c} "\n'))
    # --- tags that crashed or echoed the value
    for tag in ("int", "float", "bool", "timestamp", "str"):
        add(f"tag-{tag}-under-secret", ["plaintext-secret"], _plain(f"{GV}/main.yml", f"admin_pin: !!{tag} {{c}}\n"))
    add("tag-binary-under-secret", ["plaintext-secret"], _plain(f"{GV}/main.yml", "db_password: !!binary {c}AA==\n"))
    add("tag-unsafe-under-secret", ["plaintext-secret"], _plain(f"{GV}/main.yml", "db_password: !unsafe '{c}'\n"))
    add("tag-int-under-innocent", [], _plain(f"{GV}/main.yml", "port: !!int x{c}\n"))
    # --- secrets as mapping keys
    add("key-token-as-mapping-key", ["plaintext-secret"], _plain(f"{GV}/main.yml", "api_tokens:\n  {c}: ci-bot\n"))
    add("key-aws-id-as-mapping-key", ["secret-in-key-name"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"owners:\n  AKIA{c.upper16}: alice\n"))
    add("key-duplicate-secret-key", ["yaml-invalid"], _plain(f"{GV}/main.yml", "tokens_by_name:\n  {c}: a\n  {c}: b\n"))
    # --- Jinja literals and connection passwords
    add("jinja-literal-whole", ["jinja-literal-secret"], _plain(f"{GV}/main.yml", "db_password: \"{{ '{c}' }}\"\n"))
    add("jinja-literal-default", ["jinja-literal-secret"], _plain(
        f"{GV}/main.yml", "db_password: \"{{ vault_db_password | default('{c}') }}\"\n"))
    add("jinja-literal-d-filter", ["jinja-literal-secret"], _plain(
        f"{GV}/main.yml", "api_token: '{{ x | d(\"{c}\") }}'\n"))
    add("jinja-literal-filtered", ["jinja-literal-secret"], _plain(
        f"{GV}/main.yml", "api_token: \"{{ '{c}' | trim }}\"\n"))
    for var in ("ansible_password", "ansible_become_pass", "ansible_ssh_pass", "ansible_become_password",
                "ansible_sudo_pass"):
        add(f"conn-{var}", ["connection-password"], _plain(f"{HV}/web1.yml", f"{var}: {{c}}\n"),
            paths=("inv/host_vars",))
    # --- content rules under innocent keys
    for kind in ("RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""):
        slug = kind.strip().lower() or "pkcs8"
        add(f"content-pem-{slug}", ["private-key-material"], lambda m, r, c, kind=kind: w(
            r, f"{GV}/main.yml", "tls_material: |\n" + "".join(
                "  " + line + "\n" for line in PEM.format(kind=kind, body=c(0)).splitlines())))
    add("content-aws-access-key-id", ["cloud-credential"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"note: AKIA{c.upper16}\n"))
    add("content-github-token", ["cloud-credential"], lambda m, r, c: w(
        r, f"{GV}/main.yml", "ci_note: ghp_" + (c(0) * 3).replace("-", "")[:36] + "\n"))
    add("content-gcp-service-account", ["cloud-credential", "plaintext-secret", "private-key-material"],
        lambda m, r, c: w(
        r, f"{GV}/gcp.json", json.dumps({"gcp": {"type": "service_account", "client_email": "x@p.iam.example",
                                                 "private_key": PEM.format(kind="", body=c(0))}})))
    add("content-url-credentials", ["url-credentials"], _plain(f"{GV}/main.yml", "backup_url: s3://ops:{c}@s3.example/b\n"))
    add("content-url-credentials-postgres", ["url-credentials"], _plain(
        f"{GV}/main.yml", "database: postgres://app:{c}@db.example:5432/app\n"))
    add("content-url-credentials-in-list", ["url-credentials"], _plain(
        f"{GV}/main.yml", "mirrors:\n  - https://u:{c}@mirror.example/\n"))
    add("content-binary-under-innocent-key", ["encoded-blob"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"payload: !!binary {__import__('base64').b64encode(c(0).encode() * 2).decode()}\n"))
    add("content-base64-blob", ["encoded-blob"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"blob: {__import__('base64').b64encode((c(0) + c(1)).encode()).decode()}\n"))
    # --- key material anywhere
    add("age-key-in-vars-comment", ["age-private-key"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"# backup of the key: {age_secret_text(m)}\nregion: eu\n"))
    add("age-key-json-escaped", ["age-private-key"], lambda m, r, c: w(
        r, f"{GV}/main.json", '{"k": "' + "".join(f"\\u{ord(ch):04x}" for ch in age_secret_text(m)) + '"}'))
    for name in ("keys.txt", "backup.key", "agekey"):
        add(f"age-key-untracked-{name}", ["age-private-key"], lambda m, r, c, name=name: (
            w(r, f"inv/{name}", f"# created: now\n{age_secret_text(m)}\n"), w(r, f"{GV}/main.yml", "region: eu\n")),
            options={"key_scan": True})
    add("ssh-key-untracked", ["private-key-material"], lambda m, r, c: (
        w(r, "inv/id_ed25519", PEM.format(kind="OPENSSH ", body=c(0))), w(r, f"{GV}/main.yml", "region: eu\n")),
        options={"key_scan": True})
    add("pass-armour-line-in-docs", [], lambda m, r, c: (
        w(r, "inv/README.md", "Never commit a `-----BEGIN OPENSSH PRIVATE KEY-----` block.\n"),
        w(r, f"{GV}/main.yml", "region: eu\n")), options={"key_scan": True})
    add("age-key-tracked-large-file", ["age-private-key"], lambda m, r, c: (
        w(r, "docs/dump.txt", "x" * (3 * 1024 * 1024) + f"\n{age_secret_text(m)}\n"), git_commit(r, "docs/dump.txt"),
        w(r, f"{GV}/main.yml", "region: eu\n")), options={"tracked": True})
    add("age-key-middle-of-large-file", ["age-private-key"], lambda m, r, c: (
        w(r, "inv/notes.log", "y" * (2 * 1024 * 1024 + 17) + age_secret_text(m) + "z" * (2 * 1024 * 1024)),
        w(r, f"{GV}/main.yml", "region: eu\n")), options={"key_scan": True})
    add("age-key-tracked-small", ["age-private-key"], lambda m, r, c: (
        w(r, "docs/notes.txt", f"old key:\n{age_secret_text(m)}\n"), git_commit(r, "docs/notes.txt"),
        w(r, f"{GV}/main.yml", "region: eu\n")), options={"tracked": True})
    add("vault-password-in-vars", ["vault-password-text"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"# vault pass is {m.password}\nregion: eu\n"))
    # --- vault envelopes
    add("vault-truncated", ["vault-body-invalid"], lambda m, r, c: w(r, f"{GV}/vault.yml", m.vault(c(0))[:-41]))
    add("vault-non-hex", ["vault-body-invalid"], lambda m, r, c: w(
        r, f"{GV}/vault.yml", non_hex(m.vault(c(0)))))
    add("vault-header-only", ["vault-body-invalid"], _plain(f"{GV}/vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n"))
    add("vault-version-1.0", ["vault-header-invalid"], lambda m, r, c: w(
        r, f"{GV}/vault.yml", m.vault(c(0)).replace(";1.1;", ";1.0;", 1)))
    add("vault-cipher-aes128", ["vault-header-invalid"], lambda m, r, c: w(
        r, f"{GV}/vault.yml", m.vault(c(0)).replace("AES256", "AES128", 1)))
    add("vault-1.2-without-id", ["vault-header-invalid"], lambda m, r, c: w(
        r, f"{GV}/vault.yml", m.vault(c(0), "lab").replace(";AES256;lab", ";AES256", 1)))
    add("vault-tampered", ["vault-decrypt-failed"], lambda m, r, c: w(
        r, f"{GV}/vault.yml", vault_tampered(m.vault(f"db_password: {c(0)}\n"))), decrypt=True)
    add("vault-wrong-password", ["vault-decrypt-failed"], lambda m, r, c: w(r, f"{GV}/vault.yml", VaultLib(
        [("default", VaultSecret(b"another-password-123"))]).encrypt(c(0), secret=VaultSecret(
            b"another-password-123")).decode()), decrypt=True)
    add("vault-plaintext-invalid-yaml", [], lambda m, r, c: w(
        r, f"{GV}/vault.yml", m.vault(f"db_password: [{c(0)}\n  : :\n")), decrypt=True)
    add("inline-vault-truncated", ["inline-vault-invalid"], lambda m, r, c: w(
        r, f"{GV}/main.yml", inline("db_password", m.vault(c(0))[:-41])))
    add("inline-vault-tampered", ["inline-vault-invalid"], lambda m, r, c: w(
        r, f"{GV}/main.yml", inline("db_password", vault_tampered(m.vault(c(0))))), decrypt=True)
    add("json-inline-vault-tampered", ["inline-vault-invalid"], lambda m, r, c: w(
        r, f"{GV}/main.json", json.dumps({"db_password": {"__ansible_vault": vault_tampered(m.vault(c(0)))}})),
        decrypt=True)
    # --- sops
    sops_rel = f"{GV}/secrets.sops.yml"

    def sops_case(case_id, expect, mutate, plain="db_password: {c}\napi_token: {c1}\n", decrypt=False,
                  flags=(), **kw):
        def build(m, r, c):
            text = m.sops(r, sops_rel, plain.replace("{c}", c(0)).replace("{c1}", c(1)), *flags)
            w(r, sops_rel, mutate(m, text, c))
        add(case_id, expect, build, decrypt=decrypt, **kw)

    sops_case("sops-without-mac", ["sops-mac-missing"], lambda m, t, c: drop_line(t, "    mac:"))
    sops_case("sops-mac-not-enc", ["sops-mac-invalid"],
              lambda m, t, c: drop_line(t, "    mac:") + "    mac: deadbeef\n")
    sops_case("sops-without-lastmodified", ["sops-metadata-incomplete"],
              lambda m, t, c: drop_line(t, "    lastmodified:"))
    sops_case("sops-without-version", ["sops-metadata-incomplete"], lambda m, t, c: drop_line(t, "    version:"))
    sops_case("sops-without-recipient", ["sops-no-recipient", "sops-recipient-mismatch"],
              lambda m, t, c: drop_block(t, "    age:"))
    sops_case("sops-invalid-recipient", ["sops-recipient-invalid", "sops-recipient-mismatch"],
              lambda m, t, c: t.replace(m.key.public, "age1notakey"))
    sops_case("sops-tampered-value", ["sops-decrypt-failed"], lambda m, t, c: sops_tampered(t, "db_password"),
              decrypt=True)
    sops_case("sops-plaintext-added-by-hand", ["sops-value-unencrypted", "sops-decrypt-failed"],
              lambda m, t, c: f"extra_setting: {c(2)}\n" + t, decrypt=True)
    sops_case("sops-plaintext-secret-added", ["sops-value-unencrypted"], lambda m, t, c: f"smtp_password: {c(2)}\n" + t)
    sops_case("sops-malformed-enc", ["sops-value-malformed"],
              lambda m, t, c: f"other_token: ENC[AES256_GCM,data:{c(2)}]\n" + t)
    sops_case("sops-unencrypted-suffix-on-secret", ["sops-secret-unencrypted"], lambda m, t, c: t,
              plain="db_password_unencrypted: {c}\napi_token: {c1}\n")
    sops_case("sops-extra-pgp-recipient", ["sops-recipient-mismatch"], lambda m, t, c: t,
              flags=("--age", "{age}", "--pgp", "{pgp}"))
    sops_case("sops-recipient-not-in-config", ["sops-recipient-mismatch"], lambda m, t, c: t,
              flags=("--age", "{other}"))
    sops_case("sops-recipient-missing", ["sops-recipient-mismatch"], lambda m, t, c: t,
              options={"config_text": "creation_rules:\n  - path_regex: {rule}\n    age: \"{age},{other}\"\n"},
              flags=("--age", "{age}"))
    sops_case("sops-kms-recipient-added", ["sops-recipient-mismatch"], lambda m, t, c: t.replace(
        "sops:\n", "sops:\n    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/abcd\n"
                   "          created_at: \"2026-01-01T00:00:00Z\"\n          enc: AQICAHg\n", 1))
    sops_case("sops-key-group-rule-mismatch", ["sops-recipient-mismatch"], lambda m, t, c: t,
              options={"config_text": "creation_rules:\n  - path_regex: {rule}\n    key_groups:\n      - age:\n"
                                      "          - {other}\n"}, flags=("--age", "{age}"))
    sops_case("sops-encrypted-regex-leaves-secret", ["sops-secret-unencrypted"], lambda m, t, c: t,
              plain="data:\n  cert: {c}\ndb_password: {c1}\n",
              flags=("--age", "{age}", "--encrypted-regex", "^(data|stringData)$"),
              options={"rule_extra": "    encrypted_regex: ^(data|stringData)$\n"})
    sops_case("sops-unencrypted-regex-leaves-secret", ["sops-secret-unencrypted"], lambda m, t, c: t,
              plain="db_password: {c}\nregion: {c1}\n", flags=("--age", "{age}", "--unencrypted-regex", "^db_"),
              options={"rule_extra": "    unencrypted_regex: ^db_\n"})
    sops_case("sops-rule-would-leave-secret", ["sops-secret-unencrypted"], lambda m, t, c: t,
              options={"rule_extra": "    encrypted_regex: ^(data|stringData)$\n"})
    sops_case("sops-no-creation-rule", ["sops-no-creation-rule"], lambda m, t, c: t,
              options={"config_text": "creation_rules:\n  - path_regex: ^only-prod/.*\n    age: \"{age}\"\n"},
              flags=("--age", "{age}"))
    sops_case("sops-config-missing", ["sops-config-missing"], lambda m, t, c: t, options={"no_config": True},
              flags=("--age", "{age}"))
    sops_case("sops-config-invalid", ["sops-config-invalid"], lambda m, t, c: t,
              options={"config_text": "creation_rules: 42\n"}, flags=("--age", "{age}"))
    sops_case("sops-wrong-key-for-decrypt", ["sops-decrypt-failed"], lambda m, t, c: t, decrypt=True,
              options={"age_key": "other"})
    sops_case("sops-missing-key-file", ["sops-decrypt-failed", "key-file-missing"], lambda m, t, c: t, decrypt=True,
              options={"age_key": "missing"})
    add("secrets-name-not-encrypted", ["secrets-file-not-encrypted"], _plain("inv/secrets.yml", "region: eu\n"),
        paths=("inv/secrets.yml",))
    add("sops-name-not-encrypted", ["secrets-file-not-encrypted", "plaintext-secret"], _plain(
        f"{GV}/secrets.sops.yml", "db_password: {c}\n"))
    # --- files that cannot be vars files
    add("yaml-unclosed-flow", ["yaml-invalid"], _plain(f"{GV}/main.yml", "x: [1, 2\npassword: {c}\n"))
    add("yaml-bad-indent", ["yaml-invalid"], _plain(f"{GV}/main.yml", "db_password: {c}\n  b: 1\n c: 2\n"))
    add("yaml-tab-indent", ["yaml-invalid"], _plain(f"{GV}/main.yml", "a:\n\tdb_password: {c}\n"))
    add("yaml-python-tag", ["yaml-invalid"], _plain(f"{GV}/main.yml", "x: !!python/object:os.system '{c}'\n"))
    add("yaml-unknown-tag", ["yaml-invalid"], _plain(f"{GV}/main.yml", "db_password: !secret '{c}'\n"))
    add("yaml-duplicate-key", ["yaml-invalid"], _plain(f"{GV}/main.yml", "region: eu\nregion: us\n"))
    add("yaml-unhashable-key", ["yaml-invalid"], _plain(f"{GV}/main.yml", "? [a, b]\n: {c}\n"))
    add("vars-is-a-list", ["vars-not-mapping"], _plain(f"{GV}/main.yml", "- {c}\n"))
    add("vars-is-a-scalar", ["vars-not-mapping"], _plain(f"{GV}/main.yml", "{c}\n"))
    add("empty-file", ["empty-file"], _plain(f"{GV}/main.yml", ""))
    add("whitespace-only", ["empty-file"], _plain(f"{GV}/main.yml", "\n  \n"))
    add("binary-nul", ["binary-file"], lambda m, r, c: w(r, f"{GV}/main.yml", f"a: {c(0)}\x00\x01".encode()))
    add("binary-latin1", ["binary-file"], lambda m, r, c: w(
        r, f"{GV}/main.yml", f"password: {c(0)}caf\xe9".encode("latin-1")))
    # --- bounded parsing
    add("alias-bomb-484-bytes", ["yaml-alias-expansion"], lambda m, r, c: w(r, f"{GV}/main.yml", alias_bomb()))
    add("alias-bomb-beside-plaintext", ["yaml-alias-expansion", "plaintext-secret"], lambda m, r, c: (
        w(r, f"{GV}/bomb.yml", alias_bomb()), w(r, f"{GV}/main.yml", f"db_password: {c(0)}\n")))
    add("deep-nesting-libyaml-limit", ["yaml-invalid"], lambda m, r, c: w(
        r, f"{GV}/main.yml", "a: " + "[" * 3000 + "]" * 3000 + "\n"))
    add("deep-nesting-under-limit", ["yaml-invalid"], lambda m, r, c: w(
        r, f"{GV}/main.yml", "a: " + "[" * 900 + "]" * 900 + "\n"))
    add("time-budget", ["time-budget-exceeded"], _plain(f"{GV}/main.yml", "region: eu\n"),
        options={"file_time_budget": 0.0})
    add("file-too-large", ["file-too-large"], lambda m, r, c: w(
        r, f"{GV}/main.yml", "k: " + "v" * (9 * 1024 * 1024) + "\n"))

    def symlink_loop(m, r, c):
        (r / GV).mkdir(parents=True)
        (r / GV / "a.yml").symlink_to(r / GV / "b.yml")
        (r / GV / "b.yml").symlink_to(r / GV / "a.yml")
        w(r, f"{GV}/main.yml", f"db_password: {c(0)}\n")

    add("symlink-loop-beside-plaintext", ["symlink-loop", "plaintext-secret"], symlink_loop)

    def self_loop(m, r, c):
        (r / GV).mkdir(parents=True)
        (r / GV / "self.yml").symlink_to("self.yml")

    add("symlink-self-loop", ["symlink-loop"], self_loop)

    def dangling(m, r, c):
        (r / GV).mkdir(parents=True)
        (r / GV / "gone.yml").symlink_to(r / GV / "deleted.yml")

    add("dangling-symlink", ["unreadable"], dangling)

    def outside(m, r, c):
        out = r.parent / f"{r.name}-outside"
        out.mkdir()
        (out / "vars.yml").write_text(f"db_password: {c(0)}\n")
        (r / GV).mkdir(parents=True)
        (r / GV / "linked.yml").symlink_to(out / "vars.yml")

    add("symlink-out-of-tree", ["symlink-outside-tree"], outside)

    def fifo(m, r, c):
        (r / GV).mkdir(parents=True)
        os.mkfifo(r / GV / "pipe.yml")

    add("fifo-in-group-vars", ["unreadable"], fifo)
    add("explicit-path-missing", ["path-not-found"], lambda m, r, c: (r / "inv").mkdir(),
        paths=("inv/group_vars/nothing.yml",))
    # --- key files

    def key_mode(m, r, c):
        key = lib.make_age_key(r.parent / f"{r.name}-keys")
        key.path.chmod(0o644)
        w(r, f"{GV}/main.yml", "region: eu\n")
        return {"age_key_file": str(key.path)}

    add("world-readable-key-file", ["key-file-permissions"], key_mode)

    def key_tree(m, r, c):
        key = lib.make_age_key(r / "keys")
        w(r, f"{GV}/main.yml", "region: eu\n")
        return {"age_key_file": str(key.path)}

    add("age-key-file-inside-repository", ["age-key-in-tree"], key_tree)
    add("missing-age-key-file", ["key-file-missing"], _plain(f"{GV}/main.yml", "region: eu\n"), decrypt=True,
        options={"age_key": "missing"})
    return cases


class Canaries:
    """The canaries of one case: ``c(n)`` strings, ``c.int`` and ``c.upper16``; every one is recorded."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.values: list[str] = []
        self.int = canary_int(case_id)
        self.upper16 = hashlib.sha256(case_id.encode()).hexdigest()[:16].upper()
        self.values += [str(self.int), self.upper16]

    def __call__(self, n: int) -> str:
        value = canary(self.case_id, n)
        if value not in self.values:
            self.values.append(value)
        return value


def _config(m: Material, case: Case) -> str | None:
    if case.options.get("no_config"):
        return None
    text = case.options.get("config_text")
    if text is not None:
        return text.format(rule=SOPS_RULE, age=m.key.public, other=m.other_key.public)
    return sops_config(m, pgp=bool(case.options.get("pgp")), extra=case.options.get("rule_extra", ""))


def build_case(m: Material, case: Case, root: Path) -> dict:
    """Write one case under ``root`` and return its manifest entry (run options included)."""
    root.mkdir(parents=True)
    config = _config(m, case)
    if config is not None:
        (root / ".sops.yaml").write_text(config)
    c = Canaries(case.id)
    extra = case.build(m, root, c)
    age_key = {"other": str(m.other_key.path), "missing": str(root.parent / f"{root.name}-no-key.txt")}.get(
        case.options.get("age_key"), str(m.key.path))
    run = {"paths": list(case.paths), "decrypt": case.decrypt, "age_key_file": age_key,
           "scan_tracked_files": bool(case.options.get("tracked")),
           "key_scan_roots": [str(root / "inv")] if case.options.get("key_scan") else [],
           "secret_key_ignore_regex": case.options.get("secret_key_ignore_regex"),
           "file_time_budget": case.options.get("file_time_budget")}
    if isinstance(extra, dict):
        run.update(extra)
    return {"id": case.id, "root": str(root), "expect": sorted(case.expect), "canaries": c.values, "run": run}


def build_corpus(outdir: Path, material_dir: Path | None = None) -> tuple[Material, list[dict]]:
    m = make_material(material_dir or outdir / "_material")
    cases = build_cases()
    entries = [build_case(m, case, outdir / case.id) for case in cases]
    return m, entries


def all_canaries(m: Material, entries: list[dict]) -> list[str]:
    values = {v for e in entries for v in e["canaries"]}
    return sorted(values | {m.password, m.key.private_text, m.other_key.private_text})


def main(argv: list[str]) -> int:
    outdir = Path(argv[1])
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    m, entries = build_corpus(outdir)
    manifest = {"cases": entries, "canaries": all_canaries(m, entries), "password_file": str(m.password_file),
                "age_key_file": str(m.key.path)}
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))


__all__ = ["Case", "Material", "all_canaries", "asdict", "build_case", "build_cases", "build_corpus"]
