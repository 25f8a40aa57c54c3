"""The PySide6 desktop GUI (installed as ``ghostlive.ui``). The only package that may import Qt."""
