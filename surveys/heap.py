"""What a long-lived process tells the garbage collector once it has started."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Put every object alive now (modules, classes, the app, its compiled templates) in
    the collector's permanent generation, as Python's gc.freeze documents for servers.

    They live as long as the process, yet every full collection walked them all again:
    about 0.13 s each with the app and SciPy loaded, and building a large spreadsheet
    (20,000 cells, an evaluation report by site) set off a full collection or two. Called
    by the serving processes (surveys.wsgi, `surveys run`) once the app is made; never in
    tests, which make many apps and must let each one go."""
    gc.collect()
    gc.freeze()
