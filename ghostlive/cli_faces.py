"""The face choices of ``swap``, ``demo`` and ``live`` on the command line: which faces to swap and with which
source (``--source``, ``--pair``, ``--reference``, ``--faces``, ``--face-index``, ``--similarity``), checked for
contradictions (usage errors, exit status 2) before anything loads."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ghostlive.cli_args import usage_error
from ghostlive.settings import swap_settings, values_from_args

if TYPE_CHECKING:
    from ghostlive.jobs import PairSpec, SwapSettings


def check_choice(args: argparse.Namespace, faces: str, index: int | None) -> None:
    """Usage errors for face choices that contradict each other: a reference (``--reference``, ``--pair``) picks
    the people to swap, so --faces largest|first|index and --face-index cannot pick as well; --similarity is the
    threshold of reference matching (and of --faces first) and does nothing without either."""
    refs = ["--reference"] * bool(args.reference) + ["--pair"] * bool(getattr(args, "pair", None))
    if refs and index is not None:
        usage_error(args, f"--face-index picks a face by its place and cannot be combined with {refs[0]}, which "
                          "picks the person shown in its photo")
    if refs and faces in ("largest", "first", "index"):
        usage_error(args, f"--faces {faces} cannot be combined with {refs[0]}, which picks the person shown in "
                          "its photo (--faces reference)")
    if args.similarity is not None and not refs and faces != "first":
        usage_error(args, "--similarity is the threshold of --reference/--pair matching (and of --faces first); "
                          "without them it does nothing")


def swap_options(args: argparse.Namespace, context: str = "swap") -> SwapSettings:
    """The job settings of parsed ``args`` (``context``: swap or live); contradictory face choices are usage
    errors."""
    values = values_from_args(args, context)
    index = values.pop("face_index", None)  # None: not given (the setting's default then applies)
    check_choice(args, values["faces"], index)
    if index is not None:  # --face-index N (0 too) on its own means --faces index, as --reference means reference
        if values["faces"] not in ("all", "index"):
            usage_error(args, f"--face-index picks one face and cannot be combined with --faces {values['faces']}")
        values.update(faces="index", face_index=index)
    return swap_settings(values, context)


def face_pairs(args: argparse.Namespace, source: str | None) -> list[PairSpec]:
    """The (face, reference) pairs of ``swap``, ``live`` and ``demo`` (``source``: --source, or the demo's
    bundled portrait). A --source with --reference photos joins the --pair entries; a --source without them
    would match nobody in particular, so it cannot be combined with --pair. Usage errors otherwise."""
    refs, pairs = list(args.reference), list(getattr(args, "pair", []))
    if args.faces == "reference" and not refs and not pairs:
        usage_error(args, "--faces reference needs at least one --reference IMAGE (or --pair FACE=REFERENCE)")
    if not source and not pairs:
        usage_error(args, "give a source face: --source FACE, or --pair FACE=REFERENCE")
    if refs and not source:
        usage_error(args, "--reference goes with --source FACE; each --pair FACE=REFERENCE names its own reference")
    if source and pairs and not refs:
        usage_error(
            args,
            "--source FACE and --pair together need --reference IMAGE (the person FACE replaces), as every "
            "--pair names its own; or give that face as one more --pair FACE=REFERENCE",
        )
    if source:
        from ghostlive.jobs import PairSpec

        pairs += [PairSpec(source, r) for r in refs] or [PairSpec(source)]
    return pairs


def demo_source(args: argparse.Namespace) -> str | None:
    """The demo pastes the bundled portrait, unless --pair brings the user's own faces (without --reference,
    which picks whom the portrait replaces)."""
    from ghostlive.faces import asset_path

    return None if args.pair and not args.reference else asset_path("samples/grace_hopper.jpg")
