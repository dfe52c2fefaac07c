"""plugin_utils/secrets_workflows.py directly, the secrets_workflow action plugin with mocks, and the
agreement of its documentation and the three collection playbooks with its argument spec."""

from __future__ import annotations

import re
import subprocess
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible_collections.stability.ops.plugins.action import secrets_workflow as action
from ansible_collections.stability.ops.plugins.modules import secrets_workflow as module
from ansible_collections.stability.ops.plugins.plugin_utils import secrets_workflows as wf
from ansible_collections.stability.ops.plugins.plugin_utils import sops_files
from stability_ops_dev.testing import secrets as lib

PLAYBOOKS = {"add_placeholders": "add_placeholders.yml", "migrate_vault_to_sops": "migrate_vault_to_sops.yml",
             "rotate_keys": "rotate_keys.yml"}


# --------------------------------------------------------------------------- documentation and playbooks


def test_documentation_matches_the_argument_spec():
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    spec = wf.argument_spec()
    assert set(documented) == set(spec)
    for name, option in spec.items():
        doc = documented[name]
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("elements", None),
                             ("required", False)):
            assert doc.get(key, default) == option.get(key, default), f"{name}: {key}"
        assert doc["description"], name
    assert set(wf.OPERATION_OPTIONS) == set(documented["operation"]["choices"])
    assert {name for names in wf.OPERATION_OPTIONS.values() for name in names} | set(wf.COMMON_OPTIONS) == set(spec)
    yaml.safe_load(module.EXAMPLES)
    assert set(yaml.safe_load(module.RETURN)) >= {"msg", "operation", "added", "steps", "files"}


def test_the_action_plugin_runs_on_the_controller_and_supports_check_mode():
    assert action.ActionModule._requires_connection is False
    assert action.ActionModule._supports_check_mode is True
    assert yaml.safe_load(module.DOCUMENTATION)["attributes"]["check_mode"]["support"] == "full"


@pytest.mark.parametrize("operation", list(PLAYBOOKS), ids=list(PLAYBOOKS))
def test_each_playbook_passes_every_option_from_its_prefixed_variable(operation):
    path = lib.REPO_ROOT / "playbooks" / PLAYBOOKS[operation]
    text = path.read_text()
    (play,) = yaml.safe_load(text)
    assert (play["hosts"], play["connection"], play["gather_facts"]) == ("localhost", "local", False)
    (task,) = [t for t in play["tasks"] if "stability.ops.secrets_workflow" in t]
    args = task["stability.ops.secrets_workflow"]
    assert args.pop("operation") == operation
    options = set(wf.COMMON_OPTIONS[1:] + wf.OPERATION_OPTIONS[operation])
    assert set(args) == options
    for name, value in args.items():
        variable = f"{wf.VARIABLE_PREFIX}{name}"
        assert re.fullmatch(rf"\{{\{{ {variable}( \| default\(omit\))? \}}\}}", value), f"{name}: {value}"
        assert re.search(rf"^#   {variable} ", text, re.M), f"{variable} is not documented in the header"
    required = next(names for key, value, names in wf.REQUIRED_IF if (key, value) == ("operation", operation))
    for name in required:  # required ones are asserted first, without default(omit)
        assert args[name] == f"{{{{ {wf.VARIABLE_PREFIX}{name} }}}}"
        assert f"{wf.VARIABLE_PREFIX}{name} is not set" in text


# --------------------------------------------------------------------------- run(): options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"operation": "add_placeholders", "spec": "s.yml", "recipient": "age1x"},
         "option(s) recipient do not apply to operation add_placeholders"),
        ({"operation": "rotate_keys", "sops_config": "x", "rotation": "verify", "force": True},
         "option(s) force do not apply to operation rotate_keys"),
        ({"operation": "add_placeholders"}, "operation=add_placeholders needs spec (stability_ops_secrets_spec)"),
        ({"operation": "rotate_keys", "sops_config": "x", "rotation": "add_recipient"},
         "rotation=add_recipient needs recipient (stability_ops_secrets_recipient)"),
        ({"operation": "nope"}, "operation must be one of add_placeholders, migrate_vault_to_sops, rotate_keys"),
        ({"operation": "add_placeholders", "spec": "s.yml", "vault_ids": ["no-at-sign"]},
         "vault_ids entries are ID@FILE, got <redacted> (10 characters, no '@')"),
    ],
    ids=["misplaced", "misplaced-bool", "required", "required-recipient", "operation", "vault-id-form"],
)
def test_run_refuses_options_that_cannot_work(tmp_path, options, message):
    with pytest.raises(wf.WorkflowError) as caught:
        wf.run(options, base_dir=tmp_path)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (None, "{spec} does not exist: set spec (stability_ops_secrets_spec) to a required secrets spec"),
        ("secrets: nope\n", "{spec}: a spec needs a 'secrets' list"),
        ("secrets: [1bad]\n", "{spec}: secrets[0] needs a 'name' that is a valid variable name"),
        ("secrets: [{name: a, generator: dice}]\n", "{spec}: a: generator must be one of password, hex, token, uuid"),
        ("secrets: [{name: a, length: 8}]\n", "{spec}: a: length must be between 16 and 256"),
        ("secrets: [{name: a, length: many}]\n", "{spec}: a: length must be a number"),
        ("secrets: [a\n", "not a YAML spec: {spec}:2:1: expected ',' or ']', but got <redacted>"),
        ("secrets: [a]\n", "no target: set target (stability_ops_secrets_target) or 'target' in the spec"),
    ],
    ids=["missing", "no-list", "bad-name", "generator", "length", "length-type", "yaml", "no-target"],
)
def test_bad_specs_are_refused_with_the_reason(tmp_path, spec, message):
    path = tmp_path / "required_secrets.yml"
    if spec is not None:
        path.write_text(spec)
    with pytest.raises(wf.WorkflowError) as caught:
        wf.run({"operation": "add_placeholders", "spec": "required_secrets.yml"}, base_dir=tmp_path)
    assert str(caught.value) == message.format(spec=path)


def test_relative_paths_are_relative_to_the_base_dir_and_the_spec_target_to_the_spec(tmp_path, monkeypatch):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "required.yml").write_text("target: ../group_vars/all/s.sops.yml\nsecrets: [a]\n")
    called = MagicMock(return_value=wf.PlaceholderReport(target="t", fmt="sops", added=["a"]))
    monkeypatch.setattr(wf, "add_placeholders", called)
    result = wf.run({"operation": "add_placeholders", "spec": "secrets/required.yml", "sops_config": "cfg/.sops.yaml"},
                    base_dir=tmp_path, check=True)
    target, specs, fmt, runner, _vault_secrets = called.call_args.args
    assert target == tmp_path / "group_vars" / "all" / "s.sops.yml"  # normalised, relative to the spec
    assert [s.name for s in specs] == ["a"] and fmt is None
    assert runner.config == str(tmp_path / "cfg" / ".sops.yaml")
    assert called.call_args.kwargs == {"check": True}
    assert result["changed"] is True and result["msg"] == "t (sops): 1 would add, 0 kept, not written (check mode); " \
                                                          "would add: a"


# --------------------------------------------------------------------------- placeholders


def test_merge_placeholders_adds_only_missing_keys_and_keeps_comments():
    specs = [wf.SecretSpec("db_password"), wf.SecretSpec("api_token", generator="hex", length=20)]
    merged, added, existing = wf.merge_placeholders(f"# top\ndb_password: {lib.SECRET}\n".encode(), specs)
    text = merged.decode()
    assert (added, existing) == (["api_token"], ["db_password"])
    assert "# top" in text and "placeholder generated by stability.ops.add_placeholders" in text
    data = yaml.safe_load(text)
    assert data["db_password"] == lib.SECRET and re.fullmatch(r"[0-9a-f]{20}", data["api_token"])


def test_an_invalid_decrypted_document_is_refused_without_quoting_it():
    with pytest.raises(wf.WorkflowError) as caught:
        wf.merge_placeholders(f"db_password: [{lib.SECRET}\n".encode(), [wf.SecretSpec("x")])
    assert str(caught.value) == ("the decrypted secrets document is not valid YAML: YAML:2:1: expected ',' or ']', "
                                 "but got <redacted>")
    with pytest.raises(wf.WorkflowError) as caught:
        wf._plain_load(f"a: b: {lib.SECRET}\n".encode())
    assert lib.SECRET not in str(caught.value)


def test_placeholders_in_check_mode_encrypt_in_memory_and_write_nothing(tmp_path, material):
    (tmp_path / ".sops.yaml").write_text(lib.sops_config_text(material.key.public))
    target = tmp_path / "secrets.sops.yml"
    runner = sops_files.SopsRunner(age_key_file=str(material.key.path))
    report = wf.add_placeholders(target, [wf.SecretSpec("db_password")], None, runner, [], check=True)
    assert (report.added, report.written, report.fmt) == (["db_password"], False, "sops")
    assert not target.exists()


def test_a_new_vault_target_needs_a_vault_password(tmp_path):
    with pytest.raises(wf.WorkflowError) as caught:
        wf.add_placeholders(tmp_path / "vault.yml", [wf.SecretSpec("a")], "vault", sops_files.SopsRunner(), [])
    assert str(caught.value) == (f"a new Ansible Vault file {tmp_path / 'vault.yml'} needs a vault password: run "
                                 "ansible-playbook with --vault-id ID@FILE (or --vault-password-file FILE), or set "
                                 "vault_ids (stability_ops_secrets_vault_ids)")


def test_placeholders_on_a_vault_file_use_its_vault_id(tmp_path, material):
    target = tmp_path / "vault.yml"
    target.write_text(material.vault12)
    report = wf.add_placeholders(target, [wf.SecretSpec("db_password"), wf.SecretSpec("new_token")], None,
                                 sops_files.SopsRunner(), material.vault_secrets)
    assert (report.fmt, report.added, report.existing, report.written) == ("vault", ["new_token"], ["db_password"],
                                                                           True)
    assert target.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;lab")
    assert lib.SECRET not in target.read_text()


# --------------------------------------------------------------------------- migration and rotation


def test_migration_check_mode_verifies_and_writes_nothing(tmp_path, material):
    (tmp_path / ".sops.yaml").write_text(lib.sops_config_text(material.key.public))
    source = tmp_path / "secrets.yml"
    source.write_text(material.vault12)
    runner = sops_files.SopsRunner(age_key_file=str(material.key.path))
    report = wf.migrate_vault_to_sops(source, None, material.vault_secrets, runner, check=True)
    assert report.changed and report.keys == 3 and report.names == ["db_password", "api_token", "service_port"]
    assert report.steps[-1] == "would keep the vault backup until you remove it"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sops.yaml", "secrets.yml"]


def test_an_already_migrated_source_is_left_alone(tmp_path, material):
    target = tmp_path / "secrets.sops.yml"
    target.write_text(material.sops_text)
    report = wf.migrate_vault_to_sops(tmp_path / "secrets.yml", None, [], sops_files.SopsRunner())
    assert not report.changed and report.already_migrated.endswith("is a SOPS file: already migrated")
    with pytest.raises(wf.WorkflowError, match=r"secrets\.other\.yml does not exist$"):
        wf.migrate_vault_to_sops(tmp_path / "secrets.other.yml", None, [], sops_files.SopsRunner())


ONE = "age1" + "q" * 58
TWO = "age1" + "p" * 58


@pytest.mark.parametrize(
    ("config", "add", "remove", "changed", "age"),
    [
        (f'creation_rules:\n  - age: "{ONE}"\n', [TWO], [], ["creation rule #0"], f"{ONE},{TWO}"),
        (f"creation_rules:\n  - age: [{ONE}, {TWO}]\n", [], [ONE], ["creation rule #0"], [TWO]),
        (f'creation_rules:\n  - age: "{ONE}"\n  - pgp: x\n', [ONE], [], [], ONE),
    ],
    ids=["add-to-string", "remove-from-list", "already-there"],
)
def test_plan_recipients_edits_rules_in_memory(tmp_path, config, add, remove, changed, age):
    path = tmp_path / ".sops.yaml"
    path.write_text(config)
    new, rules_changed = wf.plan_recipients(path, add, remove)
    assert rules_changed == changed
    assert yaml.safe_load(new)["creation_rules"][0]["age"] == age
    assert path.read_text() == config  # nothing written


def test_plan_recipients_refuses_to_leave_a_rule_without_recipient(tmp_path):
    path = tmp_path / ".sops.yaml"
    path.write_text(f'creation_rules:\n  - age: "{ONE}"\n')
    with pytest.raises(wf.WorkflowError, match=r"^creation rule #0 would have no age recipient left: refusing$"):
        wf.plan_recipients(path, [], [ONE])


def test_rotation_refuses_an_invalid_recipient_before_reading_anything(tmp_path):
    with pytest.raises(wf.WorkflowError, match=r"^not a valid age public key: age1nope$"):
        wf.rotate(tmp_path / ".sops.yaml", [], sops_files.SopsRunner(), remove=["age1nope"])


# --------------------------------------------------------------------------- the action plugin


def make_action(args, check_mode=False, vault_secrets=None):
    task = MagicMock(args=args, check_mode=check_mode, async_val=0)
    loader = MagicMock()
    loader._vault.secrets = vault_secrets or []
    plugin = action.ActionModule(task, MagicMock(), MagicMock(), loader=loader, templar=MagicMock(),
                                 shared_loader_obj=None)
    plugin._load_name = "stability.ops.secrets_workflow"
    return plugin


def test_the_action_plugin_hands_validated_options_check_mode_and_vault_secrets_over(monkeypatch):
    run = MagicMock(return_value={"changed": True, "msg": "done"})
    monkeypatch.setattr(wf, "run", run)
    plugin = make_action({"operation": "rotate_keys", "sops_config": ".sops.yaml", "rotation": "verify"},
                         check_mode=True, vault_secrets=[("prod", "secret-object")])
    result = plugin.run(task_vars={})
    assert result == {"changed": True, "msg": "done", "operation": "rotate_keys"}
    options = run.call_args.args[0]
    assert options["rotation"] == "verify" and options["force"] is False and options["paths"] is None
    assert run.call_args.kwargs == {"vault_secrets": [("prod", "secret-object")], "check": True}


@pytest.mark.parametrize(
    ("error", "message", "traceback"),
    [
        (wf.WorkflowError("x is not encrypted"), "add_placeholders refused: x is not encrypted", False),
        (sops_files.SopsError("no key"), "add_placeholders failed: SopsError: no key", False),
        (KeyError("boom"), "add_placeholders could not run: unexpected KeyError", True),
    ],
    ids=["refusal", "known-error", "unexpected"],
)
def test_the_action_plugin_turns_errors_into_failed_results(monkeypatch, error, message, traceback):
    monkeypatch.setattr(wf, "run", MagicMock(side_effect=error))
    result = make_action({"operation": "add_placeholders", "spec": "s.yml"}).run(task_vars={})
    assert result["failed"] is True and result["changed"] is False and result["msg"] == message
    assert ("exception" in result) is traceback


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"operation": "add_placeholders"}, "operation is add_placeholders but all of the following are missing: spec"),
        ({"operation": "rotate_keys", "sops_config": "x", "rotation": "remove_recipient"},
         "rotation is remove_recipient but all of the following are missing: recipient"),
        ({"operation": "rotate_keys", "sops_config": "x", "rotation": "spin"},
         "value of rotation must be one of: add_recipient, remove_recipient, rotate_data_key, verify, got: spin"),
    ],
    ids=["spec", "recipient", "choice"],
)
def test_invalid_options_fail_even_in_check_mode(monkeypatch, args, message):
    run = MagicMock()
    monkeypatch.setattr(wf, "run", run)
    with pytest.raises(AnsibleActionFail) as caught:
        make_action(args, check_mode=True).run(task_vars={})
    assert message in str(caught.value)
    run.assert_not_called()


# --------------------------------------------------------------------------- never plaintext, resumable rotation


def sops_encrypt_as(plain: str, fmt: str, key: lib.AgeKey) -> str:
    proc = subprocess.run([lib.SOPS, "--encrypt", "--age", key.public, "--input-type", fmt, "--output-type", fmt,
                           "/dev/stdin"], input=plain.encode(), capture_output=True, check=True)
    return proc.stdout.decode()


@pytest.mark.parametrize(
    ("name", "fmt", "plain"),
    [
        ("a.sops.yml", "yaml", f"db_password: {lib.SECRET}\n"),
        ("b.json", "json", f'{{"db_password": "{lib.SECRET}"}}'),
        ("app.env", "dotenv", f"DB_PASSWORD={lib.SECRET}\n"),
        ("app-secrets", "dotenv", f"DB_PASSWORD={lib.SECRET}\n"),
        ("settings.ini", "ini", f"[db]\npassword = {lib.SECRET}\n"),
        ("blob.bin", "binary", f"raw {lib.SECRET}\n"),
        ("blob", "binary", f"raw {lib.SECRET}\n"),
    ],
    ids=["yaml", "json", "dotenv", "dotenv-no-extension", "ini", "binary", "binary-no-extension"],
)
def test_sops_files_are_recognised_by_their_own_metadata(tmp_path, material, name, fmt, plain):
    path = tmp_path / name
    path.write_text(sops_encrypt_as(plain, fmt, material.key))
    found = wf.read_sops_file(path)
    assert found is not None and found.fmt == fmt
    assert wf.metadata_recipients(found.metadata) == {f"age:{material.key.public}"}
    assert isinstance(found.metadata["mac"], str) and found.metadata["mac"].startswith("ENC[AES256_GCM,")
    assert [f.path for f in wf.discover_sops_files([tmp_path])] == [path]
    # the type sops is told when the name would mislead it, and it decrypts with it
    wf.sops_decrypt_file(sops_files.SopsRunner(age_key_file=str(material.key.path)), found)


@pytest.mark.parametrize(
    "text",
    ["db_password: x\nsops: nope\nmac: y\n", "A=1\nsops_version=3\n", "[sops]\nversion = 3\n", '{"data": 1}',
     "\x00\xff"],
    ids=["yaml-sops-not-mapping", "dotenv-without-mac", "ini-without-mac", "json-without-sops", "binary-junk"],
)
def test_files_without_sops_metadata_are_not_sops_files(tmp_path, text):
    path = tmp_path / "x.env"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape") if "\x00" not in text else b"\x00\xff")
    assert wf.read_sops_file(path) is None


def test_flattened_metadata_is_unflattened_as_sops_writes_it():
    flat = {"age__list_0__map_recipient": "age1a", "age__list_1__map_recipient": "age1b", "mac": "m",
            "key_groups__list_0__map_age__list_0__map_recipient": "age1c", "unencrypted_suffix": "_u"}
    assert wf._unflatten(flat) == {"age": [{"recipient": "age1a"}, {"recipient": "age1b"}], "mac": "m",
                                   "key_groups": [{"age": [{"recipient": "age1c"}]}], "unencrypted_suffix": "_u"}


def test_a_ciphertext_with_secrets_in_clear_fails_its_check(tmp_path, material):
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    age: {material.key.public}\n")
    plain = {"db_password": lib.SECRET, "region": "eu", "data": {"token": "t0ken-value"}}
    runner = sops_files.SopsRunner(config=config, age_key_file=str(material.key.path))
    target = tmp_path / "s.sops.yml"
    ciphertext = runner.encrypt(yaml.safe_dump(plain).encode(), target)
    _config, rule = wf.target_rule(target, runner)
    problems = wf.check_ciphertext(ciphertext, plain, rule, target)
    assert problems == ["secret-looking key(s) in clear: db_password",
                        "the plaintext of db_password appears in the ciphertext"]
    with pytest.raises(wf.WorkflowError) as caught:
        wf.refuse_clear_keys(target, config, rule, plain)
    assert str(caught.value).startswith(f"creation rule #0 of {config} (encrypted_regex: ^(data|stringData)$) would "
                                        f"leave secret-looking key(s) in clear in {target}: db_password; nothing")
    other = lib.make_age_key(tmp_path, "other.txt")
    config.write_text(f"creation_rules:\n  - age: {material.key.public},{other.public}\n")
    rule = wf.target_rule(target, runner)[1]
    good = runner.encrypt(yaml.safe_dump(plain).encode(), target)
    assert wf.check_ciphertext(good, plain, rule, target) == []
    config.write_text(f"creation_rules:\n  - age: {material.key.public}\n")
    assert wf.check_ciphertext(good, plain, wf.target_rule(target, runner)[1], target) == [
        f"its recipients differ from creation rule #0 (not in the rule: age:{other.public})"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (f"  - key_groups:\n      - age: [{ONE}]\n",
         "creation rule #0 of {config} uses key_groups: rotate_keys does not rewrite key groups (nothing changed); "),
        (f"  - path_regex: a\n    age: {ONE}\n  - kms: arn:aws:kms:eu-west-1:1:key/x\n    pgp: ABCD\n",
         "creation rule #1 of {config} has no age recipients (only kms, pgp): rotate_keys only rewrites age "
         "recipients (nothing changed); add an age list to the rule or "),
    ],
    ids=["key_groups", "kms-pgp-only"],
)
def test_rules_the_rotation_cannot_rewrite_are_refused_before_anything(tmp_path, rules, message):
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n{rules}")
    with pytest.raises(wf.WorkflowError) as caught:
        wf.rotate(config, [], sops_files.SopsRunner(), add=[TWO], rotation="add_recipient")
    assert str(caught.value) == message.format(config=config) + (
        "edit that rule by hand, run sops updatekeys --yes FILE on each file it covers, then run this playbook with "
        "rotation (stability_ops_secrets_rotation)=verify")


def test_a_pending_journal_refuses_another_rotation_and_an_unreadable_one_is_named(tmp_path):
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - age: {ONE}\n")
    journal = tmp_path / wf.JOURNAL_NAME
    wf.write_journal(config, {"schema": wf.JOURNAL_SCHEMA, "rotation": "remove_recipient", "recipient": TWO,
                              "files": {"a.sops.yml": "done"}})
    assert oct(journal.stat().st_mode & 0o777) == "0o644"
    with pytest.raises(wf.WorkflowError) as caught:
        wf.rotate(config, [], sops_files.SopsRunner(), rotate_data_key=True, rotation="rotate_data_key")
    assert str(caught.value) == (f"an interrupted remove_recipient of {TWO} is recorded in {journal}: run that "
                                 "rotation again to finish it before starting another (nothing changed)")
    journal.write_text("{half a jour")
    with pytest.raises(wf.WorkflowError, match=r"is not a rotation journal this version can read"):
        wf.rotate(config, [], sops_files.SopsRunner(), rotate_data_key=True, rotation="rotate_data_key")


def test_keep_backup_is_deprecated_and_ignored(tmp_path, monkeypatch):
    called = MagicMock(return_value=wf.MigrationReport(source="s", target="t", backup="b", changed=True))
    monkeypatch.setattr(wf, "migrate_vault_to_sops", called)
    result = wf.run({"operation": "migrate_vault_to_sops", "source": "s.yml", "keep_backup": False},
                    base_dir=tmp_path, check=True)
    assert "keep_backup" not in called.call_args.kwargs
    assert result["deprecations"] == [{
        "msg": "keep_backup (stability_ops_secrets_keep_backup) is deprecated: the Vault backup is always kept until "
               "you remove it; the option is ignored", "version": "1.0.0", "collection_name": "stability.ops"}]
    without = wf.run({"operation": "migrate_vault_to_sops", "source": "s.yml"}, base_dir=tmp_path, check=True)
    assert "deprecations" not in without


def test_an_unexpected_exception_shows_no_value_not_even_in_its_traceback(monkeypatch):
    monkeypatch.setattr(wf, "run", MagicMock(side_effect=ValueError(f"invalid literal for int(): '{lib.SECRET}'")))
    result = make_action({"operation": "add_placeholders", "spec": "s.yml"}).run(task_vars={})
    assert result["msg"] == "add_placeholders could not run: unexpected ValueError"
    assert lib.SECRET not in result["exception"] and result["exception"].endswith("\nValueError\n")
    assert 'secrets_workflow.py", line ' in result["exception"]
