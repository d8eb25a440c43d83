import sys

from cep_core.cli import main

sys.exit(main())
