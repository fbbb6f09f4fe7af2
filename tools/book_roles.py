"""Sphinx extension: the ``try-case`` role, and automatic links from each page to the glossary.

The ``try-case`` role is a link that opens the differential calculator filled in.

Usage in MyST: ``{try-case}`Open this case <periarticular,lobulated_multicystic_mass?ca=10&p=7.5>```.
The part before ``?`` is a comma-separated list of vocabulary finding ids;
the optional query adds lab boxes (``ca``, ``p``, ``pth``, ``ua``, ``unit``).
Ids are checked against the vocabulary when the book is built, so a typo
fails the build (``-W``) instead of giving a reader a broken case.
"""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, urlencode

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import ReferenceRole


def _calculator_settings():
    # One source for the calculator page, its anchor and the page-address parameters: data/calculators.yml.
    from calcifications.calculators import settings, url_parameters

    return settings().calculator_page, settings().calculator_anchor, set(url_parameters())


CALCULATOR_PAGE, CALCULATOR_ANCHOR, LAB_PARAMETERS = _calculator_settings()


def case_query(target: str) -> str:
    """Return the URL query for a ``try-case`` target, raising ValueError for unknown ids or parameters."""
    from calcifications.vocabulary import vocabulary

    ids_part, _, labs_part = target.partition("?")
    ids = [i.strip() for i in ids_part.split(",") if i.strip()]
    vocab = vocabulary()
    unknown = [i for i in ids if i not in vocab.findings]
    if unknown:
        raise ValueError(f"unknown finding ids {unknown}; closest: {[vocab.closest_findings(i) for i in unknown]}")
    labs = parse_qsl(labs_part, strict_parsing=bool(labs_part))
    bad = sorted({key for key, _ in labs} - LAB_PARAMETERS)
    if bad:
        raise ValueError(f"unknown lab parameters {bad}; expected some of {sorted(LAB_PARAMETERS)}")
    return urlencode([("case", ",".join(ids)), *labs], safe=",/")


class TryCaseRole(ReferenceRole):
    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        try:
            query = case_query(self.target)
        except ValueError as error:
            message = self.inliner.reporter.warning(f"try-case: {error}", line=self.lineno)
            return [nodes.problematic(self.rawtext, self.rawtext)], [message]
        here = posixpath.dirname(self.env.docname)
        page = posixpath.relpath(CALCULATOR_PAGE, here or ".") + ".html"
        uri = f"{page}?{query}#{CALCULATOR_ANCHOR}"
        title = self.title if self.has_explicit_title else "Try this case in the calculator"
        return [nodes.reference(self.rawtext, title, refuri=uri, classes=["try-case"])], []


# ---------------------------------------------------------------- glossary links
# The first time a page uses a glossary term, it links to the glossary: done here, at
# build time, for every page, so no chapter has to remember to do it by hand.

GLOSSARY_PAGE = "chapters/glossary"
SKIPPED_PAGES = {GLOSSARY_PAGE, "chapters/bibliography"}


def glossary_terms(source: str) -> list[str]:
    """Return the terms defined in a MyST ``{glossary}`` block (a term line, then an indented definition)."""
    body = source.split("```{glossary}", 1)[1].split("```", 1)[0]
    lines = body.splitlines()
    return [
        line.strip()
        for line, following in zip(lines, lines[1:] + [""])
        if line.strip() and not line.startswith((" ", ":")) and following.startswith("  ")
    ]


def _term_pattern(terms: list[str]):
    import re

    # Longest first, so "Hyperphosphataemic familial tumoral calcinosis" wins over "Tumoral calcinosis";
    # a plural "s"/"es" is allowed ("phleboliths").
    # A hyphen and an en dash are the same here ("calcium-phosphate", "calcium–phosphate").
    alternatives = "|".join(re.sub(r"\\?[-–]", "[-–]", re.escape(t)) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})(?:e?s)?\b", re.IGNORECASE)


def _normal(term: str) -> str:
    return term.lower().replace("–", "-")


def _skip(node: nodes.Node) -> bool:
    from sphinx import addnodes

    skipped = (
        nodes.title,
        nodes.reference,
        nodes.literal,
        nodes.FixedTextElement,
        nodes.raw,
        nodes.caption,
        nodes.term,
        addnodes.pending_xref,
        nodes.citation_reference,
        nodes.target,
    )
    parent = node.parent
    while parent is not None:
        if isinstance(parent, skipped) or "cell_output" in parent.get("classes", []):
            return True
        # A bold run-in label that opens a paragraph ("**Mechanism and compartment.**") stays plain.
        if (
            isinstance(parent, nodes.strong)
            and isinstance(parent.parent, nodes.paragraph)
            and parent.parent.index(parent) == 0
        ):
            return True
        parent = parent.parent
    return False


def link_first_glossary_terms(app: Sphinx, doctree: nodes.document) -> None:
    from sphinx import addnodes

    docname = app.env.docname
    if docname in SKIPPED_PAGES or not getattr(app.env, "book_glossary_terms", None):
        return
    terms = {_normal(t): t for t in app.env.book_glossary_terms}
    pattern = _term_pattern(list(terms.values()))
    done: set[str] = set()
    for node in list(doctree.findall(lambda n: isinstance(n, (nodes.Text, addnodes.pending_xref)))):
        if isinstance(node, addnodes.pending_xref):
            if node.get("reftype") == "term":
                done.add(_normal(str(node.get("reftarget", ""))))
            continue
        if _skip(node):
            continue
        text = str(node)
        pieces, last = [], 0
        for match in pattern.finditer(text):
            key = _normal(match.group(1))
            if key in done:
                continue
            done.add(key)
            pieces.append(nodes.Text(text[last : match.start()]))
            shown = match.group(0)
            xref = addnodes.pending_xref(
                "",
                nodes.inline(shown, shown, classes=["xref", "std", "std-term"]),
                refdomain="std",
                reftype="term",
                reftarget=terms[key].lower(),
                refexplicit=True,
                refwarn=True,
                refdoc=docname,
            )
            pieces.append(xref)
            last = match.end()
        if pieces:
            pieces.append(nodes.Text(text[last:]))
            node.parent.replace(node, [p for p in pieces if not (isinstance(p, nodes.Text) and not str(p))])


def load_glossary_terms(app: Sphinx, env, docnames) -> None:
    from pathlib import Path

    source = Path(app.srcdir, f"{GLOSSARY_PAGE}.md")
    env.book_glossary_terms = glossary_terms(source.read_text("utf-8")) if source.is_file() else []


def setup(app: Sphinx) -> dict:
    app.add_role("try-case", TryCaseRole())
    app.connect("env-before-read-docs", load_glossary_terms)
    app.connect("doctree-read", link_first_glossary_terms)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
