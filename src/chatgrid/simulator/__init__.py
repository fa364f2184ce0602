"""A local OpenAI- and Azure OpenAI-compatible server for tests, benchmarks and demos.

These machines have no internet, so ChatGrid's tests and benchmarks talk to
this simulator instead of OpenAI. It speaks the real wire protocol (bodies
valid against OpenAI's OpenAPI spec, SSE streams, error shapes, headers),
answers deterministically, fails on demand (``[sim:...]`` directives in the
message text, or faults scheduled under ``/_sim``), and records every request
it receives. See ``directives``, ``tokens``, ``records`` and ``control`` for
the rules tests rely on.
"""

from chatgrid.simulator.app import SimulatorApp, create_simulator_app
from chatgrid.simulator.server import run_simulator

__all__ = ["SimulatorApp", "create_simulator_app", "run_simulator"]
