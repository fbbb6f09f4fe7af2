"""Library behind the teaching book on soft-tissue calcifications in musculoskeletal radiology.

One concern per module; knowledge and numbers live in YAML files under
``data/``, front-end code of the widgets in ``static/``.

Knowledge and reasoning
    ``vocabulary``     the controlled vocabulary (mechanisms, compartments, findings, labs, diagnoses)
    ``differential``   the differential-diagnosis engine (naive Bayes ranking with explained evidence)
    ``labs``           serum chemistry: units, plausible values, the calcium-phosphate product
    ``cases``          unknown cases drawn from the knowledge base: vignette, labs and radiograph

Synthetic radiographs
    ``materials``      materials and their X-ray attenuation
    ``phantom``        3-D anatomy from the site files of ``data/anatomy``: solids, cortex, texture, projections
    ``anatomy``        material thickness maps and compartment masks per site and view (projected 3-D anatomy data)
    ``patterns``       calcification patterns, one generator per morphology
    ``subjects``       patient build, positioning and exposure varied per figure on the projected maps
    ``radiograph``     projection radiographs: transmission, noise, blur, display window
    ``figures``        figure specs: the essay's figures and the chapters' own
    ``atlas``          the morphology atlas and its frames

The book
    ``plots``          schematic matplotlib figures (colour-blind-safe palette)
    ``display``        accessible HTML figures in notebooks (image, alt text, caption)
    ``calculators``    settings of the differential calculators (chapter presets, lab boxes, page parameters)
    ``widgets``        calculators that work in a kernel and on the static site
    ``case_widgets``   the unknown-cases self-test widget
    ``atlas_widgets``  frame viewers of the atlas
    ``book``           facts about the book read from its table of contents
    ``book_figures``   Sphinx extension that copies the committed figures into the built site

The version is defined here only; ``pyproject.toml`` reads it from ``__version__``.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
