"""The built-in iris model on real portraits."""

from __future__ import annotations

import numpy as np
import pytest

from ghostlive.engines import open_onnx
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.models.iris import EYE_CORNERS, IrisLandmarks


@pytest.mark.parametrize("name", ["astronaut", "grace"])
def test_irises_sit_in_the_eyes(name: str, request: pytest.FixtureRequest, analyzer: FaceAnalyzer) -> None:
    image = request.getfixturevalue(name)
    face = analyzer.analyze(image)[0]
    eyes = IrisLandmarks(open_onnx(asset_path("iris_landmark.onnx"))).eyes(image, face)
    for side, eye in eyes.items():
        a, b = (face.landmarks[i] for i in EYE_CORNERS[side])
        width = float(np.linalg.norm(b - a))
        assert np.linalg.norm(eye.centre - (a + b) / 2) < 0.2 * width  # looking roughly at the camera
        assert 0.12 * width < eye.radius < 0.3 * width
        assert eye.contour.shape == (71, 2)
        assert min(a[0], b[0]) < eye.centre[0] < max(a[0], b[0])
    assert eyes["right"].centre[0] < eyes["left"].centre[0]  # the subject's right eye is on the image left
