"""The secrets playbooks never write plaintext and a rotation resumes, through the real sops, age,
ansible-vault and ansible-playbook (also with -vvv): creation rules that would leave secrets in clear
are refused before anything is written, sops' and YAML's errors are redacted, a rotation killed by a
real signal (or failed by sops) is finished by the next run, every SOPS file type is rotated, and
rules the tool cannot rewrite fail with what to do.

Each secret is a unique canary; after every run no canary may appear in any output, result or file
under the test directory (ciphertext and Vault never hold one in clear)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from stability_ops_dev.testing import secrets as lib

pytestmark = pytest.mark.slow

MIGRATE = "Migrate the Vault file"
WORKFLOW = "Add the missing secrets"
ROTATE = "Rotate or verify"
JOURNAL = ".stability-ops-rotation.json"
AGE = re.compile(r"age1[02-9ac-hj-np-z]{58}")
ENC = re.compile(r"ENC\[AES256_GCM,data:[^\]]*\]")
CLEAR_RULE = "creation_rules:\n  - path_regex: .*\n    encrypted_regex: ^(data|stringData)$\n    age: \"{age}\"\n"


def canary(name: str) -> str:
    return f"CANARY-{name}-{uuid.uuid4().hex[:16]}"


def extra(**variables) -> list[str]:
    return [arg for name, value in variables.items() for arg in ("-e", f"stability_ops_secrets_{name}={value}")]


class Run(lib.PlaybookRun):
    """A playbook run whose json report is found after the lines -vvv prints before it on stdout."""

    def tasks(self) -> dict[str, dict]:
        start = self.stdout.find("\n{\n") + 1 if not self.stdout.startswith("{") else 0
        report = json.JSONDecoder().raw_decode(self.stdout[start:])[0]
        return {task["task"]["name"]: task["hosts"].get("localhost", {})
                for play in report["plays"] for task in play["tasks"]}


def play(name, repo, *args, key=None) -> Run:
    run = lib.run_collection_playbook(name, repo, *args, key=key)
    return Run(run.returncode, run.stdout, run.stderr)


def both(name, repo, *args, key=None) -> tuple[Run, Run]:
    """The run and the same run with -vvv: the second must hold no more secrets than the first."""
    return play(name, repo, *args, key=key), play(name, repo, "-vvv", *args, key=key)


def assert_no_canary(canaries, runs, *directories, exclude=()):
    """No canary in any output (hence any result) nor in any file under the directories."""
    text = "".join(run.out for run in runs)
    for value in canaries:
        assert value not in text, "a canary reached the output"
    for directory in directories:
        for path in Path(directory).rglob("*"):
            if path.is_file() and path not in exclude:
                data = path.read_bytes()
                for value in canaries:
                    assert value.encode() not in data, f"a canary is in clear in {path}"


def sops_encrypt(plain: str, fmt: str, *recipients: str) -> str:
    proc = subprocess.run([lib.SOPS, "--encrypt", "--age", ",".join(recipients), "--input-type", fmt,
                           "--output-type", fmt, "/dev/stdin"], input=plain.encode(), capture_output=True,
                          check=True)
    return proc.stdout.decode()


def sops_decrypt(path: Path, fmt: str, key: lib.AgeKey) -> subprocess.CompletedProcess:
    return subprocess.run([lib.SOPS, "--decrypt", "--input-type", fmt, "--output-type", fmt, str(path)],
                          capture_output=True, env=lib.sops_env(key), check=False)


# --------------------------------------------------------------------------- migration and placeholders


def test_migration_refuses_a_rule_that_leaves_secrets_in_clear(repo, inventory, keys, tmp_path_factory):
    secret, token = canary("db"), canary("token")
    config = inventory / ".sops.yaml"
    config.write_text(CLEAR_RULE.format(age=keys[0].public))
    password = lib.write_password_file(tmp_path_factory.mktemp("pw"))
    source = inventory / "group_vars" / "all" / "secrets.yml"
    source.write_text(lib.vault_encrypt(f"db_password: {secret}\nregion: eu-west-1\napi:\n  token: {token}\n",
                                        password, vault_id="prod"))
    original = source.read_bytes()
    target = source.with_name("secrets.sops.yml")
    runs = both("migrate_vault_to_sops", repo, "--vault-id", f"prod@{password}",
                *extra(source="inv/group_vars/all/secrets.yml"), key=keys[0])
    for run in runs:
        assert run.returncode == 2, run.out
        assert run.result(MIGRATE)["msg"] == (
            f"migrate_vault_to_sops refused: creation rule #0 of {config} (encrypted_regex: ^(data|stringData)$) "
            f"would leave secret-looking key(s) in clear in {target}: db_password, api.token; nothing written. "
            "Make the rule encrypt them (drop or widen encrypted_regex/encrypted_suffix, narrow "
            "unencrypted_regex/unencrypted_suffix, no mac_only_encrypted) or give the file a rule of its own")
    check = play("migrate_vault_to_sops", repo, "--check", "--vault-id", f"prod@{password}",
                 *extra(source="inv/group_vars/all/secrets.yml"), key=keys[0])
    assert check.returncode == 2 and "would leave secret-looking key(s) in clear" in check.result(MIGRATE)["msg"]
    assert source.read_bytes() == original
    assert sorted(p.name for p in source.parent.iterdir()) == ["secrets.yml"]  # no target, no backup
    assert_no_canary([secret, token], [*runs, check], repo)


def test_a_vault_plaintext_that_is_invalid_yaml_gives_a_redacted_error(repo, inventory, keys, tmp_path_factory):
    secret = canary("broken")
    password = lib.write_password_file(tmp_path_factory.mktemp("pw"))
    source = inventory / "group_vars" / "all" / "secrets.yml"
    source.write_text(lib.vault_encrypt(f"port: 1\ndb_password: [{secret}\n", password))
    runs = both("migrate_vault_to_sops", repo, "--vault-password-file", str(password),
                *extra(source="inv/group_vars/all/secrets.yml"), key=keys[0])
    for run in runs:
        assert run.returncode == 2, run.out
        msg = run.result(MIGRATE)["msg"]
        assert msg.startswith(f"migrate_vault_to_sops refused: the decrypted Vault content of {source} is not valid "
                              f"YAML: {source}:3:1: ")
        assert "Traceback (most recent call last)" not in run.out  # ansible adds "(traceback unavailable)"
        assert run.result(MIGRATE).get("exception", "(traceback unavailable)") == "(traceback unavailable)"
    assert_no_canary([secret], runs, repo)


def test_migration_checks_the_written_ciphertext_and_keeps_the_backup(repo, inventory, keys, tmp_path_factory):
    values = {"db_password": canary("db"), "api_token": canary("api")}
    config = inventory / ".sops.yaml"
    # encrypted_regex that covers every secret-looking key: allowed, and region stays readable
    config.write_text(f"creation_rules:\n  - path_regex: .*\n    encrypted_regex: (password|token)$\n"
                      f"    age: \"{keys[0].public}\"\n")
    password = lib.write_password_file(tmp_path_factory.mktemp("pw"))
    source = inventory / "group_vars" / "all" / "secrets.yml"
    plain = "".join(f"{k}: {v}\n" for k, v in values.items()) + "region: eu-west-1\n"
    source.write_text(lib.vault_encrypt(plain, password))
    original = source.read_bytes()
    run = play("migrate_vault_to_sops", repo, "-vvv", "--vault-password-file", str(password),
               *extra(source="inv/group_vars/all/secrets.yml"), key=keys[0])
    assert run.returncode == 0, run.out
    done = run.result(MIGRATE)
    target = source.with_name("secrets.sops.yml")
    assert f"{target} checked from disk: metadata, ciphertext and identical values (3 keys)" in done["steps"]
    written = target.read_text()
    assert "region: eu-west-1" in written and AGE.findall(written) == [keys[0].public]
    assert all(re.search(rf"^{k}: ENC\[AES256_GCM,", written, re.M) for k in values)
    assert Path(done["backup"]).read_bytes() == original and not source.exists()
    assert_no_canary(list(values.values()), [run], repo)


def test_placeholders_refuse_a_rule_that_leaves_a_generated_secret_in_clear(repo, inventory, keys):
    config = inventory / ".sops.yaml"
    config.write_text(CLEAR_RULE.format(age=keys[0].public))
    spec = inventory / "required_secrets.yml"
    # bootstrap_seed_value does not look secret by name: it is generated, so it is one
    spec.write_text("target: group_vars/all/secrets.sops.yml\nsecrets: [api_token, bootstrap_seed_value]\n")
    target = inventory / "group_vars" / "all" / "secrets.sops.yml"
    runs = both("add_placeholders", repo, *extra(spec="inv/required_secrets.yml"), key=keys[0])
    for run in runs:
        assert run.returncode == 2, run.out
        assert run.result(WORKFLOW)["msg"].startswith(
            f"add_placeholders refused: creation rule #0 of {config} (encrypted_regex: ^(data|stringData)$) would "
            f"leave secret-looking key(s) in clear in {target}: api_token, bootstrap_seed_value; nothing written.")
    assert not target.exists()
    # an existing SOPS file under that rule is refused the same way, and stays as it was
    target.write_text(sops_encrypt(f"api_token: {canary('x')}\n", "yaml", keys[0].public))
    before = target.read_bytes()
    run = play("add_placeholders", repo, *extra(spec="inv/required_secrets.yml"), key=keys[0])
    assert run.returncode == 2 and "bootstrap_seed_value; nothing written" in run.result(WORKFLOW)["msg"]
    assert target.read_bytes() == before


def test_a_hand_added_plaintext_key_in_a_sops_file_is_redacted(repo, inventory, keys):
    kept, added = canary("kept"), canary("added")
    target = inventory / "group_vars" / "all" / "secrets.sops.yml"
    target.write_text(lib.sops_encrypt(f"db_password: {kept}\n", keys[0]) + f"admin_password: {added}\n")
    spec = inventory / "required_secrets.yml"
    spec.write_text("target: group_vars/all/secrets.sops.yml\nsecrets: [api_token]\n")
    runs = both("add_placeholders", repo, *extra(spec="inv/required_secrets.yml"), key=keys[0])
    for run in runs:
        assert run.returncode == 2, run.out
        msg = run.result(WORKFLOW)["msg"]
        assert msg.startswith(f"add_placeholders refused: {target}: sops cannot decrypt: ")
        assert "input is not valid SOPS data: a value is not an ENC[...] string" in msg
    assert_no_canary([kept, added], runs, repo, exclude=(target,))
    assert added.encode() in target.read_bytes()  # the user's own plaintext line: left for them to fix


# --------------------------------------------------------------------------- rotation

FILES = {  # name under inv/ -> sops type; sops would take app-secrets (no extension) for binary
    "group_vars/all/a.sops.yml": "yaml",
    "group_vars/all/b.json": "json",
    "files/app.env": "dotenv",
    "files/app-secrets": "dotenv",
    "files/settings.ini": "ini",
    "files/blob.bin": "binary",
}


def plaintext(fmt: str, value: str) -> str:
    return {"yaml": f"api_token: {value}\n", "json": json.dumps({"api_token": value}),
            "dotenv": f"API_TOKEN={value}\n", "ini": f"[main]\napi_token = {value}\n",
            "binary": f"raw secret bytes {value}\n"}[fmt]


@pytest.fixture
def rotation_tree(inventory, keys):
    """Every SOPS file type, encrypted to both keys, and a .sops.yaml with both."""
    one, two = keys
    (inventory / ".sops.yaml").write_text(lib.sops_config_text(one.public, two.public, path_regex=".*"))
    files, values = {}, []
    for name, fmt in FILES.items():
        value = canary(Path(name).name)
        path = inventory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sops_encrypt(plaintext(fmt, value), fmt, one.public, two.public))
        files[path] = fmt
        values.append(value)
    return files, values


def sops_wrapper(directory: Path, log: Path, hang_after: int | None = None, fail_at: int | None = None,
                 fail_text: str = "") -> Path:
    """A sops_binary that logs each call's command (no input) and, on the Nth `rotate`, hangs (to be killed)
    or fails with the given stderr; otherwise it runs the real sops."""
    script = directory / "sops-wrapper"
    counting = f'n=$(grep -c " rotate " "{log}")\n'
    hang = f'{counting}if [ "$n" -ge {hang_after} ]; then : > "{log}.hanging"; sleep 120; fi\n' if hang_after else ""
    fail = f'{counting}if [ "$n" -eq {fail_at} ]; then echo "{fail_text}" >&2; exit 1; fi\n' if fail_at else ""
    script.write_text(f'#!/bin/sh\necho " $* " >> "{log}"\ncase " $* " in *" rotate "*)\n{hang}{fail};;\nesac\n'
                      f'exec "{lib.SOPS}" "$@"\n')
    script.chmod(0o755)
    return script


def old_state(files):
    return {path: set(ENC.findall(path.read_text())) for path in files}


def assert_rotated_to(files, before, one, two):
    """Every file is encrypted to `two` only, with a new data key (no value ciphertext kept)."""
    for path, fmt in files.items():
        text = path.read_text()
        assert set(AGE.findall(text)) == {two.public}, path
        assert not set(ENC.findall(text)) & before[path], f"{path} kept its old data key"
        assert sops_decrypt(path, fmt, two).returncode == 0, path
        assert sops_decrypt(path, fmt, one).returncode != 0, path


def playbook_env(key: lib.AgeKey) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_CALLBACKS_ENABLED")}
    return {**env, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1",
            "PATH": f"{lib.VENV_BIN}:{env['PATH']}", "SOPS_AGE_KEY_FILE": str(key.path)}


def test_a_killed_rotation_resumes_and_finishes_every_file_type(repo, inventory, keys, rotation_tree,
                                                                tmp_path_factory):
    one, two = keys
    files, values = rotation_tree
    before = old_state(files)
    tools = tmp_path_factory.mktemp("tools")
    log = tools / "sops.log"
    log.touch()
    remove = extra(sops_config="inv/.sops.yaml", rotation="remove_recipient", recipient=one.public)
    hanging = sops_wrapper(tools, log, hang_after=2)
    proc = subprocess.Popen([str(lib.VENV_BIN / "ansible-playbook"), "stability.ops.rotate_keys", *remove,
                             *extra(sops_binary=hanging)], cwd=repo, env=playbook_env(two),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not Path(f"{log}.hanging").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the rotation never reached the second file"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # a real signal to the real ansible-playbook and its workers
    killed_out, killed_err = proc.communicate(timeout=30)
    journal = inventory / JOURNAL
    state = json.loads(journal.read_text())
    assert state["rotation"] == "remove_recipient" and state["recipient"] == one.public
    # killed in the second file's sops rotate: its keys were updated, its data key not yet
    assert sorted(state["files"].values()) == ["done", "keys_updated"] + ["pending"] * (len(files) - 2)
    assert sum(one.public in p.read_text() for p in files) == len(files) - 2
    assert one.public not in (inventory / ".sops.yaml").read_text()

    other = play("rotate_keys", repo, *extra(sops_config="inv/.sops.yaml", rotation="rotate_data_key"), key=two)
    assert other.returncode == 2
    assert other.result(ROTATE)["msg"] == (
        f"rotate_keys refused: an interrupted remove_recipient of {one.public} is recorded in {journal}: run that "
        "rotation again to finish it before starting another (nothing changed)")

    log.write_text("")
    resumed = play("rotate_keys", repo, "-vvv", *remove, *extra(sops_binary=sops_wrapper(tools, log)), key=two)
    assert resumed.returncode == 0, resumed.out
    result = resumed.result(ROTATE)
    assert result["resumed"] is True and result["changed"] is True
    assert result["steps"][0] == (f"resume the interrupted remove_recipient recorded in {journal}: 1 file(s) done, "
                                  f"{len(files) - 1} left")
    calls = log.read_text()  # only what was left is done: no step of a finished file runs again
    assert (calls.count(" updatekeys "), calls.count(" rotate ")) == (len(files) - 2, len(files) - 1)
    assert not journal.exists()
    assert_rotated_to(files, before, one, two)
    verified = play("rotate_keys", repo, *extra(sops_config="inv/.sops.yaml", rotation="verify"), key=two)
    assert verified.returncode == 0, verified.out
    assert sorted(verified.result(ROTATE)["files"]) == sorted(str(p) for p in files)
    killed = lib.PlaybookRun(-9, killed_out.decode(), killed_err.decode())
    assert_no_canary(values, [killed, other, resumed, verified], repo, tools)


def test_a_sops_failure_on_the_second_file_restores_and_the_rerun_finishes(repo, inventory, keys, rotation_tree,
                                                                           tmp_path_factory):
    one, two = keys
    files, values = rotation_tree
    before = old_state(files)
    snapshot = {path: path.read_bytes() for path in [*files, inventory / ".sops.yaml"]}
    tools = tmp_path_factory.mktemp("tools")
    log = tools / "sops.log"
    log.touch()
    leaked = canary("stderr")
    failing = sops_wrapper(tools, log, fail_at=2,
                           fail_text=f"Error: Input string {leaked} does not match sops' data format")
    remove = extra(sops_config="inv/.sops.yaml", rotation="remove_recipient", recipient=one.public)
    runs = []
    for verbosity in ([], ["-vvv"]):
        log.write_text("")
        run = play("rotate_keys", repo, *verbosity, *remove, *extra(sops_binary=failing), key=two)
        assert run.returncode == 2, run.out
        msg = run.result(ROTATE)["msg"]
        second = inventory / "files" / "app.env"  # the walk's order: files/app-secrets, files/app.env, ...
        assert msg.startswith(f"rotate_keys refused: {second}: sops rotate failed: Error: input is not valid SOPS "
                              "data: a value is not an ENC[...] string")
        assert msg.endswith("\nevery file was restored to its previous content")
        runs.append(run)
    assert {path: path.read_bytes() for path in snapshot} == snapshot
    assert not (inventory / JOURNAL).exists()
    rerun = play("rotate_keys", repo, *remove, key=two)
    assert rerun.returncode == 0, rerun.out
    assert rerun.result(ROTATE)["resumed"] is False
    assert_rotated_to(files, before, one, two)
    assert_no_canary([*values, leaked], [*runs, rerun], repo)


def test_rules_the_tool_cannot_rewrite_fail_with_what_to_do(repo, inventory, keys):
    one, two = keys
    config = inventory / ".sops.yaml"
    path = inventory / "group_vars" / "all" / "a.sops.yml"
    path.write_text(sops_encrypt(f"api_token: {canary('kg')}\n", "yaml", one.public))
    add = extra(sops_config="inv/.sops.yaml", rotation="add_recipient", recipient=two.public)
    by_hand = ("edit that rule by hand, run sops updatekeys --yes FILE on each file it covers, then run this playbook "
               "with rotation (stability_ops_secrets_rotation)=verify")
    cases = [
        (f"creation_rules:\n  - path_regex: .*\n    key_groups:\n      - age: [{one.public}]\n",
         f"creation rule #0 of {config} uses key_groups: rotate_keys does not rewrite key groups (nothing changed); "
         f"{by_hand}"),
        (f"creation_rules:\n  - path_regex: \\.sops\\.yml$\n    age: {one.public}\n"
         "  - path_regex: .*\n    pgp: 85D77543B3D624B63CEA9E6DBC17301B491B3F21\n",
         f"creation rule #1 of {config} has no age recipients (only pgp): rotate_keys only rewrites age recipients "
         f"(nothing changed); add an age list to the rule or {by_hand}"),
    ]
    for text, message in cases:
        config.write_text(text)
        before = [config.read_bytes(), path.read_bytes()]
        result = play("rotate_keys", repo, *add, key=one)
        assert result.returncode == 2, result.out
        assert result.result(ROTATE)["msg"] == f"rotate_keys refused: {message}"
        assert [config.read_bytes(), path.read_bytes()] == before


def test_verify_gives_the_whole_redacted_sops_reason(repo, inventory, keys):
    one, two = keys
    (inventory / ".sops.yaml").write_text(lib.sops_config_text(one.public, path_regex=".*"))
    value = canary("verify")
    path = inventory / "files" / "app.env"
    path.parent.mkdir(parents=True)
    path.write_text(sops_encrypt(f"DB_PASSWORD={value}\n", "dotenv", one.public))
    runs = both("rotate_keys", repo, *extra(sops_config="inv/.sops.yaml", rotation="verify"), key=two)
    for run in runs:
        assert run.returncode == 2, run.out
        msg = run.result(ROTATE)["msg"]
        assert msg.startswith(f"rotate_keys refused: verification failed:\n  {path}: [sops-decrypt-failed] ")
        # the reason, not only sops' last line ("but none were.")
        assert "Failed to get the data key" in msg and "identity did not match any of the recipients" in msg
    assert_no_canary([value], runs, repo)
