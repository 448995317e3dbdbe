"""Guards: every directive is documented in conf/siali.reference.conf and in
API.md's table or the README (no directive the users cannot find)."""
import os
import re

from conftest import SRC


def directives():
    with open(os.path.join(SRC, "mod_siali", "mod_siali_config.c")) as f:
        return set(re.findall(r'AP_INIT_\w+\("(Siali\w+)"', f.read()))


def test_siali_900_01_reference_conf_lists_every_directive():
    names = directives()
    assert len(names) >= 12
    with open(os.path.join(SRC, "conf", "siali.reference.conf")) as f:
        ref = f.read()
    missing = sorted(n for n in names if n not in ref)
    assert not missing, missing
