"""Sphinx extension: the ``try-case`` role, a link that opens the differential calculator filled in.

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

CALCULATOR_PAGE = "chapters/approach"
CALCULATOR_ANCHOR = "approach-calculator"
LAB_PARAMETERS = {"ca", "p", "pth", "ua", "unit"}


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


def setup(app: Sphinx) -> dict:
    app.add_role("try-case", TryCaseRole())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
