"""The parse floor for ``deckgen validate``: libyaml's own load of a file, in a fresh process.

    python bench/yaml_load.py bank.yaml

The cyclic garbage collector is off, as in bench/floor.py: the fair floor, not a slow one.
"""

import gc
import sys

import yaml

gc.disable()
with open(sys.argv[1], encoding="utf-8") as f:
    yaml.load(f, Loader=yaml.CSafeLoader)
