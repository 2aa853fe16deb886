#!/usr/bin/python3
"""Checks a built documentation site (scripts/build-docs runs it after every build):

- every name of ``syncache.__all__`` has an entry on the Python API page;
- every class, struct and scoped enum defined in the public headers (include/syncache/)
  has an entry in the C++ API;
- every picture of docs/figures is shown on a page;
- every internal link of the HTML (href and src to a local file, and its #anchor) leads
  to a file that exists and, for an anchor, to an element with that id.

Run:  tests/docs_test.py [BUILD]   (BUILD defaults to build/; the site is BUILD/docs/html,
the package BUILD/python). Prints one line per problem and exits 1 if there is any.
"""

import html.parser
import os
import re
import sys
import urllib.parse
from pathlib import Path

from sphinx.util.inventory import InventoryFile

ROOT = Path(__file__).resolve().parents[1]
PYTHON_PAGE = "api/python.html"
CPP_PAGES = ("api/cpp-reference.html",)


def inventory(site):
    with open(site / "objects.inv", "rb") as f:
        return InventoryFile.load(f, "", lambda base, uri: uri)


def page_of(uri):
    return uri.split("#", 1)[0]


def python_problems(site, inv, build):
    sys.path.insert(0, str(build / "python"))
    import syncache

    entries = {name: page_of(item[2]) for kind, items in inv.items() if kind.startswith("py:")
               for name, item in items.items()}
    for name in syncache.__all__:
        full = f"syncache.{name}"
        if full not in entries:
            yield f"Python API: syncache.__all__ has {name!r}, the site has no entry {full}"
        elif entries[full] != PYTHON_PAGE:
            yield f"Python API: {full} is documented on {entries[full]}, not {PYTHON_PAGE}"


# A class or struct definition (not a forward declaration or an explicit specialisation):
# the name, then optionally `final` and a base clause, then the opening brace; and the
# other tokens that decide whether it is public: braces and access specifiers.
TOKEN = re.compile(r"(?P<definition>\b(?P<kind>enum\s+class|enum\s+struct|class|struct)\s+(?P<name>\w+)\s*(?:final\s*)?"
                   r"(?::[^;{}()]*)?\{)|(?P<access>\b(?:public|protected|private)\s*:(?!:))"
                   r"|(?P<open>\{)|(?P<close>\})")


def header_classes():
    """(header, name) of every class, struct and scoped enum the public headers define
    where a user can name it: at namespace scope, or in a public section of a class that
    is."""
    for header in sorted((ROOT / "include" / "syncache").rglob("*.hpp")):
        text = header.read_text(encoding="utf-8")
        text = re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'', " ", text,
                      flags=re.S)
        scopes = [{"class": False, "access": "public", "visible": True}]
        for m in TOKEN.finditer(text):
            top = scopes[-1]
            if m["definition"]:
                visible = top["visible"] and top["access"] == "public"
                if visible:
                    yield header.relative_to(ROOT / "include"), m["name"]
                default = "private" if m["kind"] == "class" else "public"
                is_class = not m["kind"].startswith("enum")
                scopes.append({"class": is_class, "access": default, "visible": visible})
            elif m["access"]:
                if top["class"]:
                    top["access"] = m["access"].split(":")[0].strip()
            elif m["open"]:
                scopes.append({"class": False, "access": "public", "visible": top["visible"]})
            elif len(scopes) > 1:
                scopes.pop()


def cpp_problems(site, inv):
    documented = {}
    for kind in ("cpp:class", "cpp:struct", "cpp:union", "cpp:enum"):
        for name, item in inv.get(kind, {}).items():
            bare = re.sub(r"<.*>$", "", name).split("::")[-1]
            documented.setdefault(bare, set()).add(page_of(item[2]))
    for header, name in header_classes():
        pages = documented.get(name, set())
        if not pages & set(CPP_PAGES):
            yield f"C++ API: {header} defines {name}, the C++ reference has no entry for it"


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if value is None:
                continue
            if key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value)
            elif key in ("href", "src"):
                self.links.append((tag, key, value))


def parse(path, cache={}):
    if path not in cache:
        page = Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def figure_problems(site):
    """Every picture of docs/figures is shown on the site (Sphinx copies what a page shows
    into _images)."""
    for picture in sorted((ROOT / "docs" / "figures").glob("*.png")):
        if not (site / "_images" / picture.name).is_file():
            yield f"figures: docs/figures/{picture.name} is shown on no page"


def link_problems(site, count):
    checked = 0
    for path in sorted(site.rglob("*.html")):
        for tag, key, link in parse(path).links:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # an external address
            target = path if not parts.path else (path.parent / urllib.parse.unquote(parts.path))
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site)}: <{tag} {key}=\"{link}\">"
            checked += 1
            if not target.resolve().is_relative_to(site.resolve()):
                yield f"{where} leaves the site"
            elif not target.is_file():
                yield f"{where}: no file {target.relative_to(site)}"
            elif parts.fragment and target.suffix == ".html":
                if urllib.parse.unquote(parts.fragment) not in parse(target).ids:
                    yield f"{where}: no element with id {parts.fragment!r} in {target.name}"
    count[0] = checked
    if checked == 0:
        yield "links: the site has no internal link at all"


def main():
    build = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build").resolve()
    site = build / "docs" / "html"
    if not (site / "objects.inv").is_file():
        print(f"docs_test: no built site in {site} (run make docs)", file=sys.stderr)
        return 2
    inv = inventory(site)
    links = [0]
    problems = [*python_problems(site, inv, build), *cpp_problems(site, inv),
                *figure_problems(site), *link_problems(site, links)]
    for problem in problems:
        print(f"docs_test: {problem}", file=sys.stderr)
    pages = len(list(site.rglob("*.html")))
    print(f"docs_test: {pages} pages, {links[0]} internal links, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
