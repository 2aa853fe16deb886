"""Sphinx configuration of syncache's documentation site (built by scripts/build-docs).

The build script sets SYNCACHE_DOXYGEN_XML (the Doxygen XML of include/syncache) and
PYTHONPATH=<build>/python, so that autodoc imports the package of the build tree.
"""

import os

import syncache

project = "syncache"
author = "the syncache authors"
copyright = "2026, " + author
version = release = syncache.__version__

extensions = [
    "myst_parser",
    "nbsphinx",
    "breathe",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
]

# Markdown pages (MyST) and notebooks (nbsphinx); everything else in docs/ is not a page.
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# The tutorial runs at every build against the package being documented, so the outputs
# shown are those of this code; the notebook in git keeps no outputs.
nbsphinx_execute = "always"
nbsphinx_timeout = 300
nbsphinx_kernel_name = "python3"

autodoc_member_order = "bysource"
autodoc_typehints = "none"

breathe_projects = {"syncache": os.environ.get("SYNCACHE_DOXYGEN_XML", "../build/docs/doxygen/xml")}
breathe_default_project = "syncache"
breathe_default_members = ("members",)
highlight_language = "none"

html_theme = "sphinx_rtd_theme"
html_title = f"syncache {release}"
html_static_path = []
html_show_sourcelink = False
