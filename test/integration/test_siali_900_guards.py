"""Guards: the project's own reference stays true. Every directive is in
conf/siali.reference.conf and has a section in docs/directives.md; every
route is in docs/api.md; nothing in the repository cites a file outside it."""
import os
import re
import subprocess

from conftest import SRC


def directives():
    """The glue's own directives and the rows of the core's settings table
    (SL_SETTINGS in sl_config.h), from which the glue makes the rest."""
    glue = read("mod_siali", "mod_siali_config.c")
    core = read("mod_siali", "core", "sl_config.h")
    return (set(re.findall(r'AP_INIT_\w+\("(Siali\w+)"', glue))
            | set(re.findall(r'^\s*X\(\w+, "(Siali\w+)"', core, re.M)))


def routes():
    with open(os.path.join(SRC, "mod_siali", "mod_siali.c")) as f:
        return set(re.findall(r'\{ "(/[^"]*)", M\(', f.read()))


def read(*path):
    with open(os.path.join(SRC, *path)) as f:
        return f.read()


def test_siali_900_01_reference_conf_lists_every_directive():
    names = directives()
    assert len(names) >= 20
    ref = read("conf", "siali.reference.conf")
    missing = sorted(n for n in names if n not in ref)
    assert not missing, missing


def test_siali_900_02_directives_md_has_a_section_for_every_directive():
    doc = read("docs", "directives.md")
    sections = set(re.findall(r"^## (Siali\w+)$", doc, re.M))
    assert sections == directives(), (sorted(directives() - sections),
                                      sorted(sections - directives()))
    # each section says syntax, default and context
    for name in sections:
        body = doc.split("## " + name + "\n", 1)[1].split("\n## ", 1)[0]
        for field in ("| Syntax |", "| Default |", "| Context |", "| Description |"):
            assert field in body, (name, field)


def test_siali_900_03_api_md_has_every_route():
    doc = read("docs", "api.md")
    found = routes()
    assert len(found) >= 20
    missing = sorted(r for r in found if "`%s`" % r not in doc)
    assert not missing, missing


def test_siali_900_04_no_file_cites_files_outside_the_repository():
    files = subprocess.run(["git", "-C", SRC, "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    bad = []
    for name in files:
        if name.startswith("build-aux/") or name.endswith((".png", ".ico", ".woff2")):
            continue
        try:
            text = read(name)
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for m in re.finditer(r"\bAPI\.md\b|\bDESIGN\.md\b|\bSTYLE\.md\b|\.\./shared/", text):
            if name != "test/integration/test_siali_900_guards.py":
                bad.append("%s: %s" % (name, m.group(0)))
    assert not bad, bad[:10]


def test_siali_900_05_documented_defaults_are_the_code_s():
    """docs/directives.md says of each setting of the core's table the
    default the core starts from (the row's default text, which
    sl_config_defaults parses)."""
    core = read("mod_siali", "core", "sl_config.h")
    doc = read("docs", "directives.md")
    rows = re.findall(r'^\s*X\(\w+, "(Siali\w+)", \w+, [^"]*?(NULL|"[^"]*"),', core, re.M)
    assert len(rows) >= 16, rows
    for name, default in rows:
        section = doc.split("## " + name + "\n", 1)[1].split("\n## ", 1)[0]
        line = re.search(r"^\| Default \| (.*) \|$", section, re.M).group(1)
        if default == "NULL":
            assert line.startswith(("none", "generated")), (name, line)
        else:
            shown = "%s %s" % (name, default.strip('"'))
            assert "`%s`" % shown in line or "`%s`" % default.strip('"') in line, \
                (name, line, shown)
