"""The README's Python example runs and prints exactly the output the README shows."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_readme_python_example_prints_what_the_readme_says():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("\n## Python\n"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    code = next(body for lang, body in blocks if lang == "python")
    shown = blocks[[b[1] for b in blocks].index(code) + 1][1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == shown


def test_versions_agree():
    """One version: CMake's (the module's __version__), the Python package's metadata and
    CITATION.cff."""
    import syncache

    def field(path, pattern):
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            return re.search(pattern, f.read(), re.M).group(1)

    assert field("pyproject.toml", r'^version = "([^"]+)"') == syncache.__version__
    assert field("CITATION.cff", r"^version: (\S+)") == syncache.__version__
    assert field("CMakeLists.txt", r"project\(syncache VERSION (\S+)") == syncache.__version__
