"""Quality evaluation: the GHOST paper's metric table on your own faces (``ghostlive eval``)."""
