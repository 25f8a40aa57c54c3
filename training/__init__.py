"""Training and fine-tuning GHOST (installed as ``ghostlive.training``): dataset preparation, the official recipe,
checkpoints in the released layout, per-person fine-tuning. torch is imported only here, in ``engines`` and in
``export``; :mod:`ghostlive.training.config` and :mod:`ghostlive.training.prepare` work without it."""
