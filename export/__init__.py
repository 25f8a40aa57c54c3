"""Model definitions and exporters (installed as ``ghostlive.export``); torch is imported only here and in
``ghostlive.engines``."""
