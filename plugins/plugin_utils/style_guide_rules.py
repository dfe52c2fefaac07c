# Copyright: (c) 2026, Stability Ops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The style guide's rule table: one entry per rule id, with its message, fix hint and matchers.

Content rules are PCRE2 patterns run by ripgrep (``rg -U -P``); a matcher
either reports every match (at the line where the match starts, after any
``\\K``) or, with ``files_without_match``, reports line 1 of every file in
scope that has no match. Rules without matchers are repository-hygiene checks
implemented in :mod:`style_guide_engine`.

Every rule applies to any Ansible repository, except the ``opt_in`` ones: they
encode the layout and conventions of this collection's own source repository
(``stray-path``, ``reference-only-*``) and run only where the repository's
``.styleignore`` enables them (``@enable RULE-ID ...``) or a run names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.stability.ops.plugins.plugin_utils.style_guide_patterns import (
    BLANK_OR_COMMENT,
    ITEM,
    SKIP_BLOCK_SCALARS,
    SKIP_DATA,
    item_contains,
    item_key,
    item_line,
    with_skip,
)


@dataclass(frozen=True)
class Matcher:
    """One ripgrep pattern over the files that match ``include`` and not ``exclude``."""

    pattern: str
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    files_without_match: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    fix: str
    matchers: tuple[Matcher, ...] = field(default=())
    # Off unless enabled: ``@enable RULE-ID`` in .styleignore, or named in a run's rule list.
    opt_in: bool = False


# File scopes ----------------------------------------------------------------
YAML = ("**/*.yml", "**/*.yaml")
JINJA = ("**/*.j2",)
PYTHON = ("**/*.py",)
SHELL = ("**/*.sh",)
# YAML that is not a playbook or a task file: metadata, specs, variables,
# inventories, tool configuration.
NOT_ANSIBLE = (
    "galaxy.yml",
    "meta/**",
    "**/meta/**",
    "**/molecule.yml",
    ".config/**",
    ".github/**",
    ".ci/**",
    "changelogs/**",
    "docs/**",
    "requirements/**",
    "**/requirements.yml",
    "**/defaults/**",
    "**/vars/**",
    "**/group_vars/**",
    "**/host_vars/**",
    "inventories/**",
    "execution-environment.yml",
    "**/*.sops.yml",
    "**/*.sops.yaml",
    "**/.sops.yaml",
)
REFERENCE_ONLY = ("playbooks/site.yml", "playbooks/branch_templates/**")
REFERENCE_ONLY_PLAYBOOKS = ("playbooks/site.yml", "playbooks/branch_templates/**/*.yml")
GUARD_PLAYBOOK = "reference_only_guard.yml"

# Module names that must be written as FQCN: ansible.builtin plus the short
# names of the ansible.posix / community.general modules this project uses.
# (gather_facts is left out: it is also a play keyword.)
SHORT_MODULE_NAMES = (
    "add_host apt apt_key apt_repository assemble assert async_status blockinfile command copy cron "
    "deb822_repository debconf debug dnf dnf5 dpkg_selections expect fail fetch file find get_url getent "
    "git group group_by hostname import_playbook import_role import_tasks include_role include_tasks "
    "include_vars iptables known_hosts lineinfile meta mount_facts package package_facts pause ping pip "
    "raw reboot replace rpm_key script service service_facts set_fact set_stats setup shell slurp stat "
    "subversion systemd systemd_service sysvinit tempfile template unarchive uri user validate_argument_spec "
    "wait_for wait_for_connection yum_repository "
    "acl authorized_key firewalld mount patch seboolean selinux synchronize sysctl "
    "alternatives ini_file locale_gen make modprobe nmcli pam_limits timezone ufw"
).split()

COMMAND_MODULES = r"(?:ansible\.(?:builtin|legacy)\.)?(?:command|shell|raw|script):"
TRUTHY = r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE)"
SENSITIVE_KEY = r"(?i:password|passwd|passphrase|secret|token|api_?key|private_?key|access_?key|credentials?)"
# Values that are not plaintext secrets: empty, Jinja, vault or sops
# ciphertext, null and booleans.
SAFE_VALUE = (
    r"(?![\"']?\{\{|!vault\b|\$ANSIBLE_VAULT|ENC\[|[\"']{2}[ \t]*(?:#|$)"
    r"|(?:null|Null|NULL|~|true|True|false|False)[ \t]*(?:#|$))"
)
# Keys that name an action on a secret, not the secret (user: update_password: always).
NOT_AN_ACTION = r"(?!(?:update|generate|require|check|validate|use|enable|disable|expire|reset|rotate|return|prompt)_)"
# A non-empty Python string literal that is not Jinja.
PY_LITERAL = r"[\"'](?!\{\{)[^\"'\s]{4,}[\"']"
# A comment opener in YAML, Python, shell, Jinja or Markdown.
COMMENT = r"[ \t]*(?:#|\{#|<!--)"
EOL_COMMENT = r"[ \t]*(?:#[^\n]*)?$"

RULES: tuple[Rule, ...] = (
    Rule(
        "fqcn",
        "module referenced by its short name",
        "use the fully qualified collection name, e.g. ansible.builtin.copy or ansible.posix.sysctl",
        (
            Matcher(
                with_skip(
                    SKIP_DATA,
                    ITEM + rf"(?:[^\n]*\n{item_line('it')}*?\k<it>[ ]{{2}})?\K"
                    rf"(?:{'|'.join(SHORT_MODULE_NAMES)}):(?=[ \t]|$)",
                ),
                YAML,
                NOT_ANSIBLE,
            ),
            Matcher(
                r"_execute_module\([^)]*?module_name\s*=\s*[\"'][a-z0-9_]+[\"']",
                ("plugins/**/*.py",),
            ),
        ),
    ),
    Rule(
        "truthy",
        "YAML 1.1 truthy value (yes/no/on/off/True/False)",
        "write the boolean as lowercase true or false",
        (
            Matcher(
                with_skip(
                    SKIP_BLOCK_SCALARS,
                    rf"^[ ]*(?:-[ ]+)?(?:[\w.$/-]+:[ \t]+)?{TRUTHY}{EOL_COMMENT}",
                    rf"[{{,][ \t]*[\w.-]+:[ \t]*{TRUTHY}[ \t]*[,}}]",
                ),
                YAML,
            ),
        ),
    ),
    Rule(
        "no-changed-when",
        "command/shell task without changed_when, creates or removes",
        "add changed_when: (false for read-only probes, an expression on the result otherwise) or creates:/removes:",
        (
            Matcher(
                with_skip(
                    SKIP_DATA,
                    ITEM
                    + item_key("it", COMMAND_MODULES)
                    + r"(?!"
                    + item_key("it", "changed_when:")
                    + ")(?!"
                    + item_contains("it", r"\b(?:creates|removes)[:=]")
                    + ")",
                ),
                YAML,
                NOT_ANSIBLE,
            ),
        ),
    ),
    Rule(
        "ignore-errors",
        "ignore_errors hides failures",
        "handle the expected failure with failed_when:, or block/rescue with an explicit recovery",
        (Matcher(r"(?m)^[ ]*(?:-[ ]+)?ignore_errors:[ \t]*(?!false[ \t]*(?:#|$))[^\s#]", YAML, NOT_ANSIBLE),),
    ),
    Rule(
        "name-missing",
        "task, handler, block or play without a name",
        "add name: with an imperative sentence, e.g. name: Install chrony",
        (
            Matcher(
                with_skip(
                    SKIP_DATA,
                    ITEM
                    + r"(?!"
                    + item_key("it", "name:")
                    + ")(?!"
                    + item_key("it", r"(?:ansible\.builtin\.)?import_playbook:")
                    + ")",
                ),
                YAML,
                NOT_ANSIBLE,
            ),
        ),
    ),
    Rule(
        "plaintext-secret",
        "secret-looking key with a literal value",
        "load it from Ansible Vault or sops ({{ vault_* }}, !vault, community.sops) and mark the task no_log: true",
        (
            Matcher(
                rf"(?m)^[ ]*(?:-[ ]+)?[\"']?{NOT_AN_ACTION}[\w.-]*?{SENSITIVE_KEY}[\"']?[ \t]*:"
                rf"[ \t]+{SAFE_VALUE}[^\s#]",
                YAML,
            ),
            Matcher(
                rf"(?m)^[ \t]*[\w.-]*?{SENSITIVE_KEY}[ \t]*[:=][ \t]*(?![\"']?\{{\{{|[\"']{{2}}|$)[^\s{{#%]",
                JINJA,
            ),
            Matcher(
                rf"(?m)^[ \t]*[\w.]*?{SENSITIVE_KEY}[ \t]*(?::[^=\n]+)?=[ \t]*[rbuRBU]?{PY_LITERAL}"
                rf"|[\"'][\w.-]*?{SENSITIVE_KEY}[\"'][ \t]*:[ \t]*{PY_LITERAL}",
                PYTHON,
                ("tests/**",),
            ),
        ),
    ),
    Rule(
        "become-reason",
        "play-level become: true without a reason comment",
        "say why the whole play needs root in a comment on the same line or the line above, "
        "or move become to the tasks that need it",
        (
            Matcher(
                r"(?m)^(?<it>)-[ ]"
                + item_key("it", "hosts:")
                + rf"[^\n]*\n(?:{item_line('it')}*?"
                + r"(?:[ ]{2}[ ]*+[^ \t\n#][^\n]*\n|[ \t]*\n))?"
                + r"\K[ ]{2}become:[ \t]*(?:true|True|TRUE|yes|Yes|YES)[ \t]*$",
                YAML,
                NOT_ANSIBLE,
            ),
        ),
    ),
    Rule(
        "reference-only-label",
        'REFERENCE ONLY file without the "REFERENCE ONLY" header',
        "start the file with a comment block containing REFERENCE ONLY and a pointer to "
        "playbooks/production_deploy.yml",
        (
            Matcher(
                rf"\A(?:(?:[ \t]*|---[ \t]*|{COMMENT}[^\n]*)\n)*?{COMMENT}[^\n]*\bREFERENCE ONLY\b",
                REFERENCE_ONLY,
                files_without_match=True,
            ),
        ),
        opt_in=True,
    ),
    Rule(
        "reference-only-guard",
        "REFERENCE ONLY playbook does not import the production guard first",
        f"make the first play `ansible.builtin.import_playbook: <relative path>/guards/{GUARD_PLAYBOOK}`",
        (
            Matcher(
                rf"\A(?:---[ \t]*\n|{BLANK_OR_COMMENT})*-[ ](?:name:[^\n]*\n[ ]{{2}})?"
                rf"ansible\.builtin\.import_playbook:[ \t]*[\"']?[^\n]*\b{GUARD_PLAYBOOK.replace('.', '[.]')}",
                REFERENCE_ONLY_PLAYBOOKS,
                files_without_match=True,
            ),
        ),
        opt_in=True,
    ),
    Rule(
        "reference-only-hosts",
        "play in a REFERENCE ONLY playbook can target production hosts",
        'end the host pattern with ":!production", e.g. hosts: "lab:!production"',
        (Matcher(r"(?m)^(?:-[ ]|[ ]{2})hosts:(?![^\n#]*!production)", REFERENCE_ONLY_PLAYBOOKS),),
        opt_in=True,
    ),
    Rule(
        "template-header",
        "role template without the ansible_managed header",
        "put the ansible_managed header, through the comment filter, in the first five lines",
        (
            Matcher(
                r"\A(?:[^\n]*\n){0,4}[^\n]*\bansible_managed\b",
                ("roles/*/templates/**/*.j2",),
                files_without_match=True,
            ),
        ),
    ),
    Rule(
        "trailing-whitespace",
        "trailing whitespace",
        "delete the spaces or tabs at the end of the line",
        (Matcher(r"(?m)[ \t]+$", (*YAML, *JINJA, *PYTHON, *SHELL)),),
    ),
    Rule(
        "tab",
        "tab character",
        "indent with spaces (YAML forbids tabs in indentation, PEP 8 for Python)",
        (Matcher(r"\t", (*YAML, *PYTHON)),),
    ),
    # Repository hygiene (style_guide_engine): path checks over the file list.
    Rule(
        "stray-path",
        "top-level path outside the collection layout",
        "move it into the collection layout (docs/, scripts/, tests/, ...) or delete it; "
        "the allowed top-level names are listed in docs/style-guide.md",
        opt_in=True,
    ),
    Rule(
        "recursive-path",
        "directory repeats its own ancestors (a copy or link of the tree inside itself)",
        "delete the nested copy; keep links to the tree out of it or in an ignored directory",
    ),
    Rule(
        "garbage-file",
        "editor, merge or shell-accident leftover",
        "delete the file (and add the pattern to your global gitignore)",
    ),
    Rule(
        "empty-file",
        "empty file",
        "delete it, or give it content; only __init__.py, py.typed and .gitkeep/.keep may be empty",
    ),
    # Ignore bookkeeping: these can never be ignored themselves.
    Rule(
        "unknown-rule-id",
        "style-ignore or @enable names a rule id that does not exist",
        "use an id from the rule table of the stability.ops style guide (docs/style-guide.md)",
    ),
    Rule(
        "unused-ignore",
        "style-ignore comment or .styleignore entry that suppresses nothing",
        "delete the stale ignore",
    ),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}
UNIGNORABLE = frozenset({"unknown-rule-id", "unused-ignore"})
OPT_IN = frozenset(rule.id for rule in RULES if rule.opt_in)
