import sys

from autoloader_devstack.cli import main

sys.exit(main())
