"""negsim explore: a live what-if page for one scenario, served on this machine only.

Move a judgement and the scenario runs again with the same seed, so the page shows how the
forecast moves against a pinned baseline, replication by replication (paired), and can save the
values as a scenario file that ``negsim run`` reproduces. It is an optional extra
(``pip install 'negsim[app]'``): nothing else in negsim imports it, so the core install stays lean.

Why Panel (1.9, the last line that runs on Python 3.10): it serves the page and every script it
needs from this machine, with no request leaving it and no setting to turn off (the browser test
checks that no request leaves loopback), and it shows the same view inline in Jupyter. When the
library was chosen, a Panel prototype of a what-if page showed its first value 2.8 s after start
and each update 0.3 s after an input changed; Streamlit needs Python 3.11 and a setting to stop it
calling home; Solara fetches its scripts from a CDN and fails offline. ``benchmarks/explore_latency.py``
measures this page.

Modules: :mod:`sim.app.controls` (every number as a titled control), :mod:`sim.app.model` (variants,
their runs, saving), :mod:`sim.app.differences` (a variant against the baseline),
:mod:`sim.app.tables` (HTML), :mod:`sim.app.page` (the Panel page) and :mod:`sim.app.serve`
(the server and the notebook view). Only the last two import Panel.
"""

from __future__ import annotations

from importlib.util import find_spec

from sim.errors import UserError

INSTALL = "pip install 'negsim[app]'"


def require() -> None:
    """Refuse, in one line, when the app extra is not installed."""
    if find_spec("panel") is None or find_spec("bokeh") is None:
        raise UserError(f"negsim explore needs the app extra: {INSTALL}")
