# -- Balloon-statistics samples (sphinxext_balloon) -------------------------------------
# With the package installed, every balloon-sample is checked while the documentation
# is built. Without it, the samples are shown as plain literal blocks, the tables and
# rule lists are left out, and one warning says the checks were skipped.
try:
    import sphinxext_balloon
except ImportError:
    sphinxext_balloon = None

if sphinxext_balloon is not None:
    extensions.append("sphinxext_balloon")  # noqa: F821 -- conf.py defines extensions


def balloon_fallback(app):
    """Stand-ins for the extension's directives and roles when it is not installed."""
    from pathlib import Path

    from docutils import nodes
    from docutils.parsers.rst import Directive, directives
    from sphinx.util import logging

    class AnyOption(dict):
        """Accepts every option the extension has, now or in a later release."""

        def __missing__(self, name):
            return directives.unchanged

        def __bool__(self):  # docutils reads no option of a directive whose spec is empty
            return True

    class Sample(Directive):
        has_content = True
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec = AnyOption()

        def run(self):
            text = "\n".join(self.content)
            if "file" in self.options:
                env = self.state.document.settings.env
                _, path = env.relfn2path(self.options["file"], env.docname)
                env.note_dependency(path)
                try:
                    data = Path(path).read_bytes()
                except (OSError, ValueError) as exc:  # missing, a folder, a NUL in the name
                    why = getattr(exc, "strerror", None) or exc
                    error = self.state.document.reporter.warning(
                        f"balloon-sample: cannot read {self.options['file']!r}: {why}",
                        line=self.lineno,
                    )
                    return [error]
                text = data.decode("utf-8", errors="replace").rstrip("\n")
            return [nodes.literal_block(text, text)] if text else []

    class Nothing(Directive):
        has_content = True
        optional_arguments = 2
        final_argument_whitespace = True
        option_spec = AnyOption()

        def run(self):
            return []

    def literal(name, rawtext, text, lineno, inliner, options=None, content=None):
        return [nodes.literal(rawtext, text)], []

    app.add_directive("balloon-sample", Sample)
    app.add_directive("balloon-schema", Nothing)
    app.add_directive("balloon-rules", Nothing)
    app.add_role("balloon-field", literal)
    app.add_role("balloon-rule", literal)
    logging.getLogger("balloon").warning(
        "sphinxext_balloon is not installed: the balloon-sample examples are not "
        "checked (pip install sphinxext-balloon)",
        type="balloon",
        subtype="not-installed",
    )


def setup(app):
    # a conf.py that has a setup() already calls balloon_fallback(app) from it instead
    if sphinxext_balloon is None:
        balloon_fallback(app)
