"""ghostlive: real-time face swap built on GHOST (AEI-Net + ArcFace), with a built-in classic swapper."""

__version__ = "0.1.0"
