import sys

from ghostlive.cli import main

sys.exit(main())
