"""The README's examples run and print what is shown: the Python examples (NumPy, PyTorch)
exactly, and the command-line example's JSON commands exactly as docs/guide/cli.md shows
their output.
The site includes the README's marked blocks (<!-- name --> ... <!-- /name -->), so the
pages show the same tested text."""

import json
import math
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("SYNCACHE", os.path.join(ROOT, "build", "bin", "syncache"))


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def marked(name):
    """The README's text between <!-- name --> and <!-- /name -->."""
    text = read("README.md")
    start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    assert text.count(start) == 1 and text.count(end) == 1, f"README: marker {name} missing"
    return text[text.index(start) + len(start):text.index(end)]


@pytest.mark.parametrize("name", ["python-example", "torch-example"])
def test_readme_python_example_prints_what_the_readme_says(name):
    blocks = re.findall(r"```(\w*)\n(.*?)```", marked(name), re.S)
    code = next(body for lang, body in blocks if lang == "python")
    shown = blocks[[b[1] for b in blocks].index(code) + 1][1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == shown


def close(a, b):
    """Equal, floats to 12 digits (the shown outputs need not follow a change of the last
    bit of a sum)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return type(a) is type(b) and a == b


def test_readme_cli_example_prints_what_the_cli_reference_shows():
    """Each JSON command of the README's example (perceptron, theory) is shown with its
    output in docs/guide/cli.md; both agree with what the program prints now (all but
    the version)."""
    reference = read("docs/guide/cli.md")
    commands = [line.split("#")[0].split() for line in marked("cli-example").splitlines()
                if line.startswith("build/bin/syncache ")]
    assert len(commands) == 5
    checked = 0
    for words in commands:
        if words[1] not in ("perceptron", "theory"):
            continue  # figure and mlp take seconds; their tests are elsewhere
        shown = "$ syncache " + " ".join(words[1:]) + "\n"
        assert shown in reference, f"docs/guide/cli.md does not show {shown!r}"
        block = reference[reference.index(shown) + len(shown):]
        expected = json.loads(block[:block.index("\n}\n") + 2])
        out = subprocess.run([CLI, *words[1:]], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        expected.pop("version", None)
        got.pop("version", None)
        assert close(got, expected), f"{shlex.join(words)}\nprints {got}\nshown {expected}"
        checked += 1
    assert checked == 3


def test_versions_agree():
    """One version: CMake's (the module's __version__), the Python package's metadata and
    CITATION.cff."""
    import syncache

    def field(path, pattern):
        return re.search(pattern, read(path), re.M).group(1)

    assert field("pyproject.toml", r'^version = "([^"]+)"') == syncache.__version__
    assert field("CITATION.cff", r"^version: (\S+)") == syncache.__version__
    assert field("CMakeLists.txt", r"project\(syncache VERSION (\S+)") == syncache.__version__
