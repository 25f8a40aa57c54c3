"""What every model wrapper checks about the runner it is handed."""

from __future__ import annotations

from ghostlive.engines.base import Runner
from ghostlive.errors import ModelError


def check_io(runner: Runner, inputs: int, outputs: int, what: str) -> None:
    """Refuse a model whose number of inputs/outputs does not fit ``what``."""
    got_in, got_out = len(runner.info.inputs), len(runner.info.outputs)
    if (got_in, got_out) != (inputs, outputs):
        raise ModelError(
            f"{runner.info.model}: a {what} model has {inputs} input(s) and {outputs} output(s), "
            f"this one has {got_in} and {got_out}"
        )
