"""What a source face will give, said before it is swapped: a face turned far to the side, or a small one.

Either still swaps, so these are warnings, not errors: a turned face's hidden side is filled from its other side
or the target's own skin (``ghostlive.ops.occlusion``), and a small face has little detail to give a larger
target face (neural swappers enlarge it to their crop first).
"""

from __future__ import annotations

import numpy as np

from ghostlive.ops.occlusion import head_turn
from ghostlive.types import Face

TURNED = 0.45
"""A source face turned further than this (:func:`ghostlive.ops.occlusion.head_turn`, about 35° of yaw) shows
one side of the face mostly hidden from the camera."""
SMALL_PX = 64
"""A source face shorter than this (pixels from the top of the forehead to the chin, which a turn does not
shorten) has little detail to give."""
_FOREHEAD, _CHIN = 10, 152


def source_advice(face: Face) -> list[str]:
    """One line for each reason why ``face`` will swap worse than a frontal, close-up source face would."""
    notes = []
    if abs(head_turn(face.landmarks)) > TURNED:
        notes.append(
            "the face is turned far to the side: the side hidden from the camera is filled in from its other side "
            "or from the target's own skin; a frontal photo swaps better"
        )
    height = float(np.linalg.norm(face.landmarks[_CHIN] - face.landmarks[_FOREHEAD]))
    if height < SMALL_PX:
        notes.append(
            f"the face is only {height:.0f} px tall: the swap has little detail where the target's face is larger; "
            "a closer or larger photo swaps better"
        )
    return notes
