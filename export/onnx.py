"""Export of the GHOST generator and ArcFace to ONNX (fp32 or fp16 weights, float32 inputs/outputs), with
metadata that names the model, its source checkpoint's SHA-256 and its preprocessing."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from ghostlive import __version__
from ghostlive.errors import ModelError, OutputError
from ghostlive.export.aei_net import AEINet
from ghostlive.export.checkpoint import fit, mismatch_report, read_state_dict
from ghostlive.export.iresnet import IResNet, iresnet100
from ghostlive.export.lip_spade import LIPSPADEGenerator, freeze
from ghostlive.media.paths import (
    check_name_length,
    check_replaceable,
    check_sinks,
    mkstemp_beside,
    publish,
    reason,
    require_file,
    sha256_file,
)

log = logging.getLogger(__name__)

Precision = Literal["fp32", "fp16"]
OPSET = 17

GENERATOR_PREPROCESSING = {
    "target": "aligned 224 crop (GHOST five-template fit) resized to 256 bilinear, RGB, x/127.5-1, N×3×256×256",
    "source": "raw ArcFace iresnet100 embedding, not normalised, N×512",
    "output": "RGB in [-1,1]; image = (y*0.5+0.5)*255, resized 256→224",
}
ARCFACE_PREPROCESSING = {
    "input": "aligned 224 crop, RGB, (x/255-0.5)/0.5, bilinear ×0.5 (align_corners) to 112, N×3×112×112",
    "output": "raw 512-d embedding (GHOST feeds it to the generator without normalising)",
}
SR_PREPROCESSING = {
    "input": "swapped 256 crop (GHOST template), RGB, x/255, N×3×256×256; normalised with batch statistics",
    "output": "tanh; image = clip(y, 0, 1)*255, RGB",
}


class _Float32IO(nn.Module):
    """Runs a half-precision model behind float32 inputs and outputs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.half()

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(*(x.half() for x in inputs)).float()


def _export(
    model: nn.Module,
    example: tuple[torch.Tensor, ...],
    names: tuple[list[str], list[str]],
    path: Path,
    precision: Precision,
    metadata: dict[str, str],
) -> Path:
    import onnx

    check_output(path)
    wrapped = _Float32IO(model) if precision == "fp16" else model
    wrapped.eval()
    inputs, outputs = names
    axes = {n: {0: "batch"} for n in (*inputs, *outputs)}
    fd, tmp = mkstemp_beside(path)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                example,
                str(tmp),
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        proto = onnx.load(str(tmp))
        for key, value in {**metadata, "ghostlive.precision": precision, "ghostlive.version": __version__}.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, str(tmp))
        publish(tmp, path)
    except OSError as exc:  # a full disk, mostly; OutputError (a refused target) is one already
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write the export ({reason(exc)})", path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("exported %s (%s)", path, precision)
    return path


def export_generator(
    model: AEINet, path: str | Path, *, precision: Precision = "fp32", name: str = "", source_sha256: str = ""
) -> Path:
    """Write ``model`` as ONNX: inputs ``target`` N×3×256×256 and ``source`` N×512, output ``output``."""
    example = (torch.zeros(1, 3, 256, 256), torch.zeros(1, 512))
    meta = {
        "ghostlive.model": name or f"ghost-{model.num_blocks}",
        "ghostlive.kind": "ghost_generator",
        "ghostlive.source_sha256": source_sha256,
        "ghostlive.preprocessing": json.dumps(GENERATOR_PREPROCESSING),
    }
    return _export(model, example, (["target", "source"], ["output"]), Path(path), precision, meta)


def export_arcface(
    model: IResNet, path: str | Path, *, precision: Precision = "fp32", name: str = "arcface", source_sha256: str = ""
) -> Path:
    """Write ArcFace as ONNX: input ``input`` N×3×112×112, output ``embedding`` N×512."""
    meta = {
        "ghostlive.model": name,
        "ghostlive.kind": "ghost_arcface",
        "ghostlive.source_sha256": source_sha256,
        "ghostlive.preprocessing": json.dumps(ARCFACE_PREPROCESSING),
    }
    example = (torch.zeros(1, 3, 112, 112),)
    return _export(model, example, (["input"], ["embedding"]), Path(path), precision, meta)


def export_sr(
    model: LIPSPADEGenerator, path: str | Path, *, precision: Precision = "fp32", source_sha256: str = ""
) -> Path:
    """Write GHOST's enhancer as ONNX (spectral norms fixed by :func:`freeze` first): ``input`` → ``output``."""
    meta = {
        "ghostlive.model": "ghost-sr",
        "ghostlive.kind": "ghost_sr",
        "ghostlive.source_sha256": source_sha256,
        "ghostlive.preprocessing": json.dumps(SR_PREPROCESSING),
    }
    example = (torch.rand(1, 3, 256, 256),)
    return _export(freeze(model), example, (["input"], ["output"]), Path(path), precision, meta)


def check_output(output: str | Path, inputs: tuple[str | Path, ...] = ()) -> Path:
    """``output`` if an ONNX export may be written there: an ``.onnx`` name (any case), not a folder, in an existing
    writable folder, a name the file system takes, not one of ``inputs`` (the same file, also through a hard or
    symbolic link), nothing an output may not replace (a FIFO, device, write-protected file). Checked before any
    work; OutputError naming the file otherwise."""
    out = check_name_length(output)
    check_sinks([out], inputs)
    if out.is_dir():
        raise OutputError("is a folder; name the .onnx file to write in it (e.g. FOLDER/model.onnx)", out)
    if out.suffix.lower() != ".onnx":
        raise OutputError(f"an ONNX export needs a .onnx file name, not {out.suffix or 'one without a suffix'}", out)
    folder = out.parent
    if not folder.is_dir():
        raise OutputError(f"the folder {folder} does not exist", out)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"the folder {folder} is not writable", out)
    check_replaceable(out)
    return out


def _recognise(state: dict[str, torch.Tensor], path: str | Path) -> tuple[str, nn.Module]:
    keys = state.keys()
    if any(k.startswith("generator.AADBlk1.add_blocks.") for k in keys):
        n = len({k.split(".")[3] for k in keys if k.startswith("generator.AADBlk1.add_blocks.")}) // 2
        if n in (1, 2, 3):
            return f"ghost-{n}", AEINet(n)
    if "lip_encoder.model.0.weight" in keys:
        return "ghost-sr", LIPSPADEGenerator(int(state["lip_encoder.model.0.weight"].shape[0]))
    if "fc.weight" in keys and any(k.startswith("layer4.") for k in keys):
        return "arcface", iresnet100()
    raise ModelError(
        "not a GHOST checkpoint ghostlive can export: neither a generator (ghost-1/2/3), GHOST's super-resolution "
        "enhancer (ghost-sr) nor ArcFace iresnet100 (unknown keys)",
        path,
    )


def model_for_checkpoint(path: str | Path) -> tuple[str, nn.Module]:
    """Which network a checkpoint holds, judged by its keys: ('ghost-N', AEINet(N)), ('ghost-sr',
    LIPSPADEGenerator) or ('arcface', IResNet)."""
    return _recognise(read_state_dict(path), path)


def expected_network(name: str, state: dict[str, torch.Tensor]) -> list[str]:
    """Mismatches (missing, unexpected, wrong-shaped keys) between ``state`` and the network ``name``
    ('ghost-1/2/3', 'ghost-arcface', 'ghost-sr' or 'awl-fan'); empty when it fits. Built on the meta device:
    no memory."""
    with torch.device("meta"):
        if name == "ghost-sr":
            model: nn.Module = LIPSPADEGenerator()
        elif name == "awl-fan":
            from ghostlive.export.fan import FAN  # the eye-loss landmark network

            model = FAN()
        else:
            model = iresnet100() if name == "ghost-arcface" else AEINet(int(name.rsplit("-", 1)[1]))
    return mismatch_report(model, state)


def export_checkpoint(checkpoint: str | Path, output: str | Path, precision: Precision = "fp32") -> Path:
    """Load a released ``.pth`` (safely) and export it; the kind is recognised from its keys. The output is
    checked first (:func:`check_output`: never the checkpoint itself), so nothing is loaded for an export that
    could not be written."""
    require_file(checkpoint, "checkpoint")
    check_output(output, (checkpoint,))
    state = read_state_dict(checkpoint)
    name, model = _recognise(state, checkpoint)
    fit(model, state, checkpoint)
    digest = sha256_file(checkpoint)
    if isinstance(model, LIPSPADEGenerator):
        return export_sr(model, output, precision=precision, source_sha256=digest)
    if isinstance(model, AEINet):
        return export_generator(model, output, precision=precision, name=name, source_sha256=digest)
    return export_arcface(model, output, precision=precision, name=name, source_sha256=digest)  # type: ignore[arg-type]
