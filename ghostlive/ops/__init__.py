"""Pure array functions (no I/O, no models) over numpy or cupy, chosen by :mod:`ghostlive.xp`."""
